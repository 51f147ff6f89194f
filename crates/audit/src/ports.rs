use async_trait::async_trait;
use dialix_kernel::{AccountId, CompanyId, DomainResult, Page, PageRequest, ResourceType, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{AuditEntry, AuditEvent, AuditFilter};

/// Appends entries. Every domain's state-changing use case calls this inside the transaction
/// of its change: if the change commits, its entry exists; if either fails, neither is kept.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, tx: &mut Tx, event: AuditEvent, at: OffsetDateTime) -> DomainResult<()>;
}

/// Where a keyset scan (newest first) stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

/// A chain's head: its last entry, and the anchor it starts from after purges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub chain_id: Uuid,
    pub head_seq: i64,
    pub head_hash: String,
    pub anchor_seq: i64,
    pub anchor_hash: String,
}

impl ChainHead {
    /// How many entries the chain holds: sequence numbers run without gaps from the anchor
    /// (the last purged entry) to the head, and an append moves the head in the same
    /// transaction as its entry, so this is the count of the chain's rows (verification
    /// checks both the sequence and the head).
    pub fn entries(&self) -> u64 {
        u64::try_from(self.head_seq - self.anchor_seq).unwrap_or(0)
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub deleted: u64,
    pub chains: u64,
}

/// Reading the log, and the one sanctioned way to remove entries (retention purge).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Newest first, with the count of all matches (for a whole chain,
    /// `AuditFilter::whole_chain`, taken from its head: `ChainHead::entries`).
    async fn list(&self, filter: &AuditFilter, page: PageRequest)
    -> DomainResult<Page<AuditEntry>>;
    /// Newest first, up to `batch` entries older than `after` (for streaming exports).
    async fn scan(
        &self,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        batch: u64,
    ) -> DomainResult<Vec<AuditEntry>>;
    async fn chains(&self) -> DomainResult<Vec<ChainHead>>;
    /// One chain in sequence order, up to `batch` entries after `after_seq`.
    async fn chain_entries(
        &self,
        chain_id: Uuid,
        after_seq: i64,
        batch: u64,
    ) -> DomainResult<Vec<AuditEntry>>;
    /// Removes, per chain, the run of oldest entries created before `before`, and moves the
    /// chain's anchor to the last removed entry so the rest still verifies.
    async fn purge(&self, tx: &mut Tx, before: OffsetDateTime) -> DomainResult<PurgeReport>;
}

/// Whom a resource belongs to, for deciding who may read its audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceOwner {
    pub company_id: Option<CompanyId>,
    pub account_id: Option<AccountId>,
}

/// Looks up resources of any domain by type and id.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ResourceAccess: Send + Sync {
    /// `None` when the type is unknown or no such resource exists.
    async fn owner_of(
        &self,
        resource_type: ResourceType,
        resource_id: &str,
    ) -> DomainResult<Option<ResourceOwner>>;
}
