use async_trait::async_trait;
use dialix_kernel::{CompanyId, DomainResult, Tx};

use crate::Company;

/// Company storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CompanyRepository: Send + Sync {
    /// Stores a new company; a name clash (compared by `Company::name_key`) that slipped past
    /// the service's check is reported as `DomainError::Conflict`.
    async fn insert(&self, tx: &mut Tx, company: &Company) -> DomainResult<()>;
    async fn find_by_id(&self, id: CompanyId) -> DomainResult<Option<Company>>;
    async fn name_taken(&self, name_key: &str) -> DomainResult<bool>;
}
