use bytes::Bytes;
use dialix_kernel::{AccountId, ChecklistId, CompanyId, Page, RecordId, RowVersion};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    CallMetrics, ChecklistResult, GeneralAnalysis, PhoneSearch, SentimentValue, TranscriptQuery,
    Turn,
};

/// Who called whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallType {
    Inbound,
    Outbound,
}

impl CallType {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallType::Inbound => "inbound",
            CallType::Outbound => "outbound",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "inbound" => Some(CallType::Inbound),
            "outbound" => Some(CallType::Outbound),
            _ => None,
        }
    }
}

/// The containers calls are stored in: one MIME type and one file extension each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    Wav,
    Mp3,
    /// Ogg with Vorbis or Opus.
    Ogg,
    Flac,
    /// MP4/M4A with AAC.
    Mp4,
}

impl AudioFormat {
    pub const ALL: [AudioFormat; 5] = [
        AudioFormat::Wav,
        AudioFormat::Mp3,
        AudioFormat::Ogg,
        AudioFormat::Flac,
        AudioFormat::Mp4,
    ];

    pub const fn mime(self) -> &'static str {
        match self {
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Ogg => "audio/ogg",
            AudioFormat::Flac => "audio/flac",
            AudioFormat::Mp4 => "audio/mp4",
        }
    }

    pub const fn extension(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Ogg => "ogg",
            AudioFormat::Flac => "flac",
            AudioFormat::Mp4 => "m4a",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.mime() == mime)
    }
}

/// Where a record is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordStatus {
    /// Stored; not (yet) sent for processing.
    Uploaded,
    Queued,
    /// An imported call whose audio is being fetched from the PBX.
    Downloading,
    Transcribing,
    Analysing,
    Done,
    Failed,
}

impl RecordStatus {
    pub const ALL: [RecordStatus; 7] = [
        RecordStatus::Uploaded,
        RecordStatus::Queued,
        RecordStatus::Downloading,
        RecordStatus::Transcribing,
        RecordStatus::Analysing,
        RecordStatus::Done,
        RecordStatus::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Uploaded => "uploaded",
            RecordStatus::Queued => "queued",
            RecordStatus::Downloading => "downloading",
            RecordStatus::Transcribing => "transcribing",
            RecordStatus::Analysing => "analysing",
            RecordStatus::Done => "done",
            RecordStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// One uploaded call.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: RecordId,
    pub owner_id: AccountId,
    pub company_id: CompanyId,
    pub operator_code: Option<String>,
    /// E.164.
    pub client_phone_number: Option<String>,
    pub call_type: Option<CallType>,
    /// When the call started, if the file name said so.
    pub call_started_at: Option<OffsetDateTime>,
    /// Measured by decoding the audio.
    pub duration_ms: u64,
    pub status: RecordStatus,
    /// Whether the general analysis was asked for.
    pub general: bool,
    /// The checklist (and its version) the call is scored with, if any.
    pub checklist_id: Option<ChecklistId>,
    pub checklist_version: Option<u32>,
    pub original_filename: String,
    pub content_type: AudioFormat,
    pub size_bytes: u64,
    /// Where the audio is; `None` once the audio was removed.
    pub storage_key: Option<String>,
    pub error: Option<String>,
    /// What is still reserved on the company balance for this record's unfinished steps.
    pub reserved_amount: i64,
    /// 1 for the first processing, +1 per reprocess: each round's charges are keyed apart.
    pub processing_round: u32,
    pub payload: RecordPayload,
    /// The OnlinePBX call this record was imported from (unique per company); until its
    /// audio is downloaded, `storage_key` is `None` and `duration_ms` is the PBX's figure.
    pub pbx_call_id: Option<String>,
    /// What the company's CRM knows about the client; `None` until looked up.
    pub crm: Option<crate::CrmLookup>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub row_version: RowVersion,
}

impl Record {
    /// When the call happened: its start when known, else the upload time. Calls are grouped
    /// and ordered by this.
    pub fn call_at(&self) -> OffsetDateTime {
        self.call_started_at.unwrap_or(self.created_at)
    }
}

#[cfg(any(test, feature = "mock"))]
impl Record {
    /// A 2.5-second WAV call of a fresh owner and company, for unit tests.
    pub fn sample(id: RecordId, status: RecordStatus, at: OffsetDateTime) -> Self {
        Record {
            id,
            owner_id: AccountId::generate(),
            company_id: CompanyId::generate(),
            operator_code: None,
            client_phone_number: None,
            call_type: None,
            call_started_at: None,
            duration_ms: 2500,
            status,
            general: false,
            checklist_id: None,
            checklist_version: None,
            original_filename: "call.wav".into(),
            content_type: AudioFormat::Wav,
            size_bytes: 4,
            storage_key: Some("ab/call.wav".into()),
            error: None,
            reserved_amount: 0,
            processing_round: 1,
            payload: Default::default(),
            pbx_call_id: None,
            crm: None,
            created_at: at,
            updated_at: at,
            deleted_at: None,
            row_version: Default::default(),
        }
    }
}

/// What processing produced so far; a retried job continues from here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<Turn>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<CallMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<GeneralAnalysis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist: Option<ChecklistResult>,
    /// A model reply that failed the schema, kept for debugging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_reply: Option<String>,
}

/// One file of an upload, with what the uploader said about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadFile {
    pub file_name: String,
    pub bytes: Bytes,
    pub client_phone_number: Option<String>,
    pub operator_code: Option<String>,
    pub call_type: Option<String>,
    pub checklist_id: Option<String>,
    pub general: Option<bool>,
}

/// Whose records an actor may list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RecordScope {
    /// Everything (platform admins).
    #[default]
    All,
    /// The actor's own uploads, plus every record of these companies.
    OwnAnd(AccountId, Vec<CompanyId>),
}

/// Which records a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    pub scope: RecordScope,
    pub status: Option<RecordStatus>,
    pub operator_code: Option<String>,
    pub call_type: Option<CallType>,
    pub phone: Option<PhoneSearch>,
    /// The conversation's sentiment in the general analysis.
    pub sentiment: Option<SentimentValue>,
    /// Scored with this checklist.
    pub checklist_id: Option<ChecklistId>,
    /// Words of the transcript (full-text search).
    pub transcript: Option<TranscriptQuery>,
    pub created_from: Option<OffsetDateTime>,
    pub created_to: Option<OffsetDateTime>,
    pub order: RecordOrder,
}

/// How a records listing is ordered (ties: newest upload first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RecordOrder {
    #[default]
    NewestFirst,
    OldestFirst,
    /// Best transcript match first; only with a transcript search.
    Relevance,
}

/// Listings count their matches exactly up to this many; past it `total` is this bound and
/// `total_is_exact` is false, so a page never costs a count over a company's whole history.
pub const EXACT_TOTAL_LIMIT: u64 = 10_000;

/// A page of the records listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    /// `total` is at most [`EXACT_TOTAL_LIMIT`].
    pub page: Page<Record>,
    /// Whether `page.total` is every match (else: at least that many).
    pub total_is_exact: bool,
}
