//! The vocabulary every Dialix domain crate shares: typed ids, who is acting and from where,
//! the error kinds the API maps to HTTP once, pagination, and the clock and transaction ports.
//! No I/O lives here.

mod actor;
mod clock;
mod company_tree;
mod error;
mod ids;
mod page;
mod request;
mod resource;
mod spend;
mod transaction;
mod version;

pub use actor::{Actor, CompanyGrant, Permission, Role};
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
pub use clock::{Clock, SystemClock};
#[cfg(any(test, feature = "mock"))]
pub use company_tree::MockCompanyTree;
pub use company_tree::{CompanyTree, administered_companies, covers_grants};
pub use error::{DomainError, DomainResult, FieldErrors, InternalError, retry_on_stale};
/// How long an owner's records keep their audio and transcript unless their settings say
/// otherwise (the settings' default, and the rule for owners who never saved settings).
pub const DEFAULT_RETENTION_DAYS: i32 = 90;

pub use ids::{
    AccountId, ChatMessageId, ChatSessionId, ChecklistId, CompanyId, OperatorId, RecordId,
};
pub use page::{MAX_LIMIT, MAX_OFFSET, Page, PageRequest};
pub use request::RequestMeta;
pub use resource::ResourceType;
pub use spend::ChargedFor;
#[cfg(any(test, feature = "mock"))]
pub use transaction::{MockUnitOfWork, NoopTransaction, noop_unit_of_work};
pub use transaction::{Transaction, Tx, UnitOfWork};
pub use version::RowVersion;
