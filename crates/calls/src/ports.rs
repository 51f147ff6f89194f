use async_trait::async_trait;
use bytes::Bytes;
use dialix_kernel::{
    AccountId, ChecklistId, CompanyId, DomainResult, OperatorId, Page, PageRequest, RecordId, Tx,
};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    AudioFormat, BalanceView, Charge, ChargeStep, Checklist, Job, Operator, ProviderError,
    QueueStats, Record, RecordFilter, RecordPage, StepOutcome, Utterance,
};

/// Record storage. Unless a method says otherwise, a database failure is `Internal` and an
/// absent row is `Ok(None)` (reads) or `Stale` (conditional writes).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RecordRepository: Send + Sync {
    /// Stores a new record (ids are fresh, so no conflict is expected).
    async fn insert(&self, tx: &mut Tx, record: &Record) -> DomainResult<()>;
    /// An undeleted record; `None` if there is none or it was deleted.
    async fn find(&self, id: RecordId) -> DomainResult<Option<Record>>;
    /// Newest first unless the filter orders otherwise; `total` counted up to
    /// [`crate::EXACT_TOTAL_LIMIT`].
    async fn list(&self, filter: &RecordFilter, page: PageRequest) -> DomainResult<RecordPage>;
    /// The state of the undeleted records in `scope` stamped at or after `since`, oldest
    /// first (then by id), at most `limit`: what the change feed reads, without counting and
    /// without the records' contents.
    async fn changed_since(
        &self,
        scope: &crate::RecordScope,
        since: OffsetDateTime,
        limit: u64,
    ) -> DomainResult<Vec<crate::RecordChange>>;
    /// Writes the processing state (status, payload, error, reservation) if the record is
    /// undeleted and still at `record.row_version`, and advances the version; `Stale` if it
    /// changed or was deleted meanwhile.
    async fn update(&self, tx: &mut Tx, record: &mut Record) -> DomainResult<()>;
    /// Which of `keys` some record still points to.
    async fn referenced_keys(&self, keys: &[String]) -> DomainResult<Vec<String>>;
    /// The company's records imported from these PBX calls (undeleted or not: a call once
    /// imported is never imported again), as (PBX call id, record id).
    async fn imported_pbx_calls(
        &self,
        company: CompanyId,
        pbx_call_ids: &[String],
    ) -> DomainResult<Vec<(String, RecordId)>>;
    /// Soft delete: the row stays with `deleted_at` set, no storage key and no reservation,
    /// if it is still at `record.row_version` (else `Stale`).
    async fn mark_deleted(
        &self,
        tx: &mut Tx,
        record: &mut Record,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
}

/// Where audio files live (a directory, or an S3-compatible bucket). Keys are chosen by the
/// service, never by a user.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AudioStore: Send + Sync {
    /// Stores the file whole (readers never see half of it); I/O failures are `Internal`.
    /// Takes shared bytes so a large file can be sent in parts without being copied.
    async fn put(&self, key: &str, bytes: Bytes) -> DomainResult<()>;
    /// The file's size; `NotFound("audio")` if there is no such file.
    async fn size(&self, key: &str) -> DomainResult<u64>;
    /// Bytes `start..end` (end exclusive) of the file; a missing file is `Internal` (callers
    /// ask `size` first).
    async fn read(&self, key: &str, start: u64, end: u64) -> DomainResult<Bytes>;
    /// Removes the file; a missing file is not an error.
    async fn delete(&self, key: &str) -> DomainResult<()>;
    /// Every stored file (half-written ones included), to sweep or copy them.
    async fn list(&self) -> DomainResult<Vec<StoredAudio>>;
    /// Keys of the files last written before `cutoff` (half-written ones included), so files
    /// that no record points to can be swept.
    async fn written_before(&self, cutoff: OffsetDateTime) -> DomainResult<Vec<String>> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .filter(|file| file.modified < cutoff)
            .map(|file| file.key)
            .collect())
    }
    /// A URL that serves the file without credentials for `ttl`, so players can fetch it
    /// from the store directly; `None` if the store has no such URLs (files on a local
    /// disk), and the caller streams the file itself.
    async fn signed_url(&self, key: &str, ttl: Duration) -> DomainResult<Option<String>>;
}

/// One file as the store lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAudio {
    pub key: String,
    pub size: u64,
    /// When it was last written.
    pub modified: OffsetDateTime,
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

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OperatorRepository: Send + Sync {
    /// A code already used in the company is a `Conflict`.
    async fn insert(&self, tx: &mut Tx, operator: &Operator) -> DomainResult<()>;
    /// Writes the operator if it is still at `operator.row_version` (else `Stale`), and
    /// advances the version. A code already used in the company is a `Conflict`.
    async fn update(&self, tx: &mut Tx, operator: &mut Operator) -> DomainResult<()>;
    /// Removes the operator; a missing one is not an error.
    async fn delete(&self, tx: &mut Tx, id: OperatorId) -> DomainResult<()>;
    /// `None` if there is no such operator.
    async fn find(&self, id: OperatorId) -> DomainResult<Option<Operator>>;
    /// The company's operator with this code; `None` if there is none.
    async fn find_by_code(&self, company: CompanyId, code: &str) -> DomainResult<Option<Operator>>;
    /// `None`: every company.
    async fn list(
        &self,
        companies: Option<Vec<CompanyId>>,
        page: PageRequest,
    ) -> DomainResult<Page<Operator>>;
}

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ChecklistRepository: Send + Sync {
    /// Stores a new checklist with its first version.
    async fn insert(&self, tx: &mut Tx, checklist: &Checklist) -> DomainResult<()>;
    /// Stores `checklist.version` as the current version, if the checklist is still at
    /// `checklist.row_version` (else `Stale`); advances the row version.
    async fn add_version(&self, tx: &mut Tx, checklist: &mut Checklist) -> DomainResult<()>;
    /// The current version, or the given one; `None` for deleted checklists unless a version
    /// is asked for (results keep pointing at theirs).
    async fn find(&self, id: ChecklistId, version: Option<u32>) -> DomainResult<Option<Checklist>>;
    async fn list(
        &self,
        companies: Option<Vec<CompanyId>>,
        page: PageRequest,
    ) -> DomainResult<Page<Checklist>>;
    /// Soft delete (results keep their version); operators assigned to it lose it.
    async fn delete(&self, tx: &mut Tx, id: ChecklistId, at: OffsetDateTime) -> DomainResult<()>;
}

/// The durable queue. Claims are exclusive for a lease: a job whose worker died is claimed
/// again when the lease has run out.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues the record's processing; a record processed before is queued afresh.
    async fn enqueue(&self, tx: &mut Tx, record: RecordId, at: OffsetDateTime) -> DomainResult<()>;
    /// The next ready job, leased to `worker` for `lease`; `None` when nothing is ready.
    async fn claim(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> DomainResult<Option<Job>>;
    /// Completes the record's job.
    async fn finish(&self, tx: &mut Tx, record: RecordId, at: OffsetDateTime) -> DomainResult<()>;
    /// Releases the lease; the job is ready again at `at`.
    async fn retry_later(&self, job: Uuid, at: OffsetDateTime, error: &str) -> DomainResult<()>;
    /// Hands the job back unfinished (its worker is shutting down): ready again at `at`, and
    /// this claim is not counted as an attempt. Only while `worker` still holds the lease; a
    /// job finished, given up or claimed by another meanwhile is left alone.
    async fn release(&self, job: Uuid, worker: &str, at: OffsetDateTime) -> DomainResult<()>;
    /// How much work is queued and in flight, for monitoring. Finished jobs are not counted
    /// (one per call ever processed: counting them would read the whole history).
    async fn stats(&self, now: OffsetDateTime) -> DomainResult<QueueStats>;
    /// Marks the job dead after its last attempt.
    async fn give_up(
        &self,
        tx: &mut Tx,
        job: Uuid,
        error: &str,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
}

/// Hears how each processing step ended, for monitoring. Called as the step ends, so it must
/// return at once.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait ProcessingObserver: Send + Sync {
    /// `took` is the step's time in this run, from its start to its outcome.
    fn step_ended(&self, step: ChargeStep, outcome: StepOutcome, took: Duration);
}

/// Reservations and charges on company balances; every change is one conditional statement,
/// so racing uploads can never take the balance below zero.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Billing: Send + Sync {
    /// Reserves `amount` if that much is available; `false` (and nothing changed) otherwise.
    async fn reserve(&self, tx: &mut Tx, company: CompanyId, amount: i64) -> DomainResult<bool>;
    /// Moves `charge.amount` from reserved to spent with a `charge` ledger entry; an item
    /// already charged (same [`Charge::key`]) is left alone.
    async fn settle(&self, tx: &mut Tx, charge: &Charge, at: OffsetDateTime) -> DomainResult<()>;
    /// Gives `amount` of the reservation back.
    async fn release(&self, tx: &mut Tx, company: CompanyId, amount: i64) -> DomainResult<()>;
    /// `NotFound("company")` if there is no such company.
    async fn balance(&self, company: CompanyId) -> DomainResult<BalanceView>;
}

/// What processing needs to know about the people and companies involved.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProcessingContext: Send + Sync {
    /// The owner's `preferred_stt_model` (the default model when they have no settings).
    async fn stt_model(&self, owner: AccountId) -> DomainResult<String>;
    /// The company's language for analyses (`uz`, `ru`, `en`).
    async fn language(&self, company: CompanyId) -> DomainResult<String>;
    /// The company's configured call purposes.
    async fn call_purposes(&self, company: CompanyId) -> DomainResult<Vec<String>>;
}

/// Turns audio into words or segments with speaker labels. Failures are `ProviderError`s:
/// transient ones are retried by the job, permanent ones fail it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SpeechToText: Send + Sync {
    async fn transcribe(
        &self,
        audio: Bytes,
        file_name: String,
        format: AudioFormat,
        language: String,
    ) -> Result<Vec<Utterance>, ProviderError>;
}

/// A chat model that answers in JSON following a schema.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CallAnalyzer: Send + Sync {
    /// The model's reply content (expected to be JSON; the caller checks it).
    async fn complete_json(
        &self,
        system: String,
        user: String,
        schema_name: String,
        schema: Value,
    ) -> Result<String, ProviderError>;
}

/// Records to clean up at the moment of a run.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RetentionCandidates: Send + Sync {
    /// Records, not being processed, that still hold audio or a transcript and are older
    /// than their owner's retention (`default_days` for owners without settings; never when
    /// the owner chose none), at most `limit`.
    async fn expired(
        &self,
        now: OffsetDateTime,
        default_days: i32,
        limit: u64,
    ) -> DomainResult<Vec<Record>>;
}

/// Tells the event streams when records may have changed, so that each reads the database
/// only then instead of on a timer of its own.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait RecordChangeSignal: Send + Sync {
    /// A waiter that hears of the changes committed from now on.
    fn subscribe(&self) -> Box<dyn ChangeWaiter>;
}

/// One stream's subscription to a [`RecordChangeSignal`].
#[async_trait]
pub trait ChangeWaiter: Send {
    /// `true` once records may have changed since the previous call (any number of changes
    /// count as one, and a wake-up without a change is allowed), `false` when `timeout` passed
    /// first. `Internal` when no signal can come any more: the stream ends, and its client
    /// reconnects with its last event id.
    async fn changed(&mut self, timeout: Duration) -> DomainResult<bool>;
}

/// Audio fetched from where an imported call lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedAudio {
    pub bytes: Bytes,
    /// The name the source gives the file (its extension helps decoding).
    pub file_name: String,
}

/// Where imported calls' audio is fetched from: the company's PBX.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CallAudioSource: Send + Sync {
    /// The recording of the company's PBX call. Transient failures are retried by the job;
    /// permanent ones (no PBX connected, no recording) fail the record with their message.
    async fn fetch(
        &self,
        company: CompanyId,
        pbx_call_id: &str,
    ) -> Result<FetchedAudio, ProviderError>;
}

/// The company's CRM, asked who a call's client is.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerLookup: Send + Sync {
    /// `None` when the company has no CRM connected. Otherwise the outcome: a CRM that cannot
    /// be asked is a `failed` lookup, never an error, so it cannot fail a call's processing.
    async fn lookup(&self, company: CompanyId, phone: &str) -> Option<crate::CrmLookup>;
}
