use async_trait::async_trait;

use crate::{CompanyId, DomainResult};

/// The company hierarchy, as every domain's authorisation needs it: company administrators
/// act within their company and its descendants.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CompanyTree: Send + Sync {
    /// The company first, then its parent, up to the root; empty if there is no such company.
    async fn lineage(&self, company: CompanyId) -> DomainResult<Vec<CompanyId>>;
    /// These companies and all their descendants.
    async fn subtree(&self, roots: &[CompanyId]) -> DomainResult<Vec<CompanyId>>;
}
