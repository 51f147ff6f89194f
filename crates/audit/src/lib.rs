//! The activity log: every change (and every read of something sensitive) leaves an entry,
//! written in the same transaction as the change through the `AuditLog` port. Entries are
//! append-only and hash-chained per company, so editing or deleting one is detectable.

mod audited;
mod chain;
mod details;
mod filter;
mod model;
mod ports;
mod service;

pub use audited::{AuditedTransaction, AuditedUnitOfWork};
pub use chain::{BrokenLink, ChainVerifier, GENESIS_HASH, entry_hash};
pub use details::{Changes, sanitize};
pub use filter::{AuditFilter, AuditFilterInput};
pub use model::{AuditAction, AuditEntry, AuditEvent, PLATFORM_CHAIN};
pub use ports::{
    AuditCursor, AuditLog, AuditStore, ChainHead, PurgeReport, ResourceAccess, ResourceOwner,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockAuditLog, MockAuditStore, MockResourceAccess};
pub use service::{
    AuditPorts, AuditQuery, AuditService, ExportBatch, PurgeCutoff, VerificationReport,
};
