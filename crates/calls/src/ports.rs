use async_trait::async_trait;
use bytes::Bytes;
use dialix_kernel::{DomainResult, Page, PageRequest, RecordId, Tx};
use time::OffsetDateTime;

use crate::{AudioFormat, Record, RecordFilter};

/// Record storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RecordRepository: Send + Sync {
    async fn insert(&self, tx: &mut Tx, record: &Record) -> DomainResult<()>;
    /// An undeleted record.
    async fn find(&self, id: RecordId) -> DomainResult<Option<Record>>;
    async fn list(&self, filter: &RecordFilter, page: PageRequest) -> DomainResult<Page<Record>>;
    /// Writes the processing state (status, payload, error, reservation) if the record is
    /// undeleted and still at `record.row_version`, and advances the version; `Stale` if it
    /// changed or was deleted meanwhile.
    async fn update(&self, tx: &mut Tx, record: &mut Record) -> DomainResult<()>;
    /// Which of `keys` some record still points to.
    async fn referenced_keys(&self, keys: &[String]) -> DomainResult<Vec<String>>;
    /// Soft delete: the row stays with `deleted_at` set, no storage key and no reservation,
    /// if it is still at `record.row_version` (else `Stale`).
    async fn mark_deleted(
        &self,
        tx: &mut Tx,
        record: &mut Record,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
}

/// Where audio files live. Keys are chosen by the service, never by a user.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AudioStore: Send + Sync {
    async fn put(&self, key: &str, bytes: &[u8]) -> DomainResult<()>;
    async fn size(&self, key: &str) -> DomainResult<u64>;
    /// Bytes `start..end` (end exclusive) of the file.
    async fn read(&self, key: &str, start: u64, end: u64) -> DomainResult<Bytes>;
    /// Removes the file; a missing file is not an error.
    async fn delete(&self, key: &str) -> DomainResult<()>;
    /// Keys of the files last written before `cutoff` (half-written ones included), so files
    /// that no record points to can be swept.
    async fn written_before(&self, cutoff: OffsetDateTime) -> DomainResult<Vec<String>>;
}

/// Why an audio file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Undecodable(pub String);

/// Measures audio by decoding it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AudioProbe: Send + Sync {
    /// The playable duration in milliseconds, and the container.
    async fn probe(
        &self,
        bytes: Bytes,
        file_name: String,
    ) -> Result<(u64, AudioFormat), Undecodable>;
}
