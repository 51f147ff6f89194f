use async_trait::async_trait;
use dialix_kernel::{AccountId, CompanyId, DomainResult, Page, PageRequest, Tx};
use time::OffsetDateTime;

use crate::{
    Administrator, Company, CompanyFilter, CompanyStats, LedgerEntry, LedgerKind, MembershipChange,
};

/// Company storage and the company tree.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CompanyRepository: Send + Sync {
    /// Stores a new company; a name clash (compared by `Company::name_key`) that slipped past
    /// the service's check is reported as `DomainError::Conflict`.
    async fn insert(&self, tx: &mut Tx, company: &Company) -> DomainResult<()>;
    /// Writes name, description, is_active, settings and updated_at, if the row is still at
    /// `company.row_version` (else `Stale`), and advances the version.
    async fn update(&self, tx: &mut Tx, company: &mut Company) -> DomainResult<()>;
    async fn find_by_id(&self, id: CompanyId) -> DomainResult<Option<Company>>;
    /// The company holding this name key, if any.
    async fn find_by_name_key(&self, name_key: &str) -> DomainResult<Option<CompanyId>>;
    async fn list(&self, filter: &CompanyFilter, page: PageRequest) -> DomainResult<Page<Company>>;
    async fn stats(&self, id: CompanyId) -> DomainResult<CompanyStats>;
    /// Blocks every active, unblocked member of `companies`, marking them as blocked by
    /// `blocked_by`; returns how many.
    async fn block_members(
        &self,
        tx: &mut Tx,
        companies: &[CompanyId],
        blocked_by: CompanyId,
        at: OffsetDateTime,
    ) -> DomainResult<u64>;
    /// Unblocks exactly the members that the block of `blocked_by` blocked.
    async fn unblock_members(
        &self,
        tx: &mut Tx,
        blocked_by: CompanyId,
        at: OffsetDateTime,
    ) -> DomainResult<u64>;
}

/// The balance and its append-only ledger.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Ledger: Send + Sync {
    /// Adds `amount` to the balance in one statement (no read-modify-write, so concurrent
    /// changes never overwrite each other) and returns the new balance.
    async fn add_to_balance(
        &self,
        tx: &mut Tx,
        company: CompanyId,
        amount: i64,
    ) -> DomainResult<i64>;
    /// Appends an entry. An idempotency key already used for the company is a `Conflict`.
    async fn append(&self, tx: &mut Tx, entry: &LedgerEntry) -> DomainResult<()>;
    /// The entry of `kind` with this idempotency key; keys of different kinds never meet.
    async fn find_by_key(
        &self,
        company: CompanyId,
        kind: LedgerKind,
        key: &str,
    ) -> DomainResult<Option<LedgerEntry>>;
    /// Newest first.
    async fn entries(
        &self,
        company: CompanyId,
        page: PageRequest,
    ) -> DomainResult<Page<LedgerEntry>>;
    /// The latest entries a user caused, in any company, newest first.
    async fn entries_by_owner(
        &self,
        owner: AccountId,
        limit: u64,
    ) -> DomainResult<Vec<LedgerEntry>>;
}

/// Company administrators.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Administrators: Send + Sync {
    /// A second grant for the same company and user is a `Conflict`.
    async fn insert(&self, tx: &mut Tx, admin: &Administrator) -> DomainResult<()>;
    /// Replaces the permissions, if the grant is still at `admin.row_version` (else `Stale`:
    /// changed or removed meanwhile), and advances the version.
    async fn update(&self, tx: &mut Tx, admin: &mut Administrator) -> DomainResult<()>;
    async fn delete(&self, tx: &mut Tx, company: CompanyId, user: AccountId) -> DomainResult<()>;
    async fn find(
        &self,
        company: CompanyId,
        user: AccountId,
    ) -> DomainResult<Option<Administrator>>;
    async fn list(&self, company: CompanyId) -> DomainResult<Vec<Administrator>>;
    /// Every grant the user holds, in any company.
    async fn of_user(&self, user: AccountId) -> DomainResult<Vec<Administrator>>;
}

/// Which company accounts belong to, and the history of moves.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Membership: Send + Sync {
    /// `None` if there is no such (undeleted) account; `Some(None)` if it has no company.
    async fn company_of(&self, user: AccountId) -> DomainResult<Option<Option<CompanyId>>>;
    /// Moves the user from `from` to `company`; `Stale` if it is no longer in `from`.
    async fn move_to(
        &self,
        tx: &mut Tx,
        user: AccountId,
        from: CompanyId,
        company: CompanyId,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
    async fn record(&self, tx: &mut Tx, change: &MembershipChange) -> DomainResult<()>;
}
