//! Calls (records): upload with duration measured by decoding, storage of the audio,
//! listing and retrieval scoped to the caller, audio streaming, soft deletion, and prices.
//! Transcription, analysis, checklists and billing settlement build on this (see the note of
//! the issue that tracks them).

mod analysis;
mod catalog;
mod checklist_analysis;
mod crm;
mod feed;
mod filename;
mod metrics;
mod model;
mod phone;
mod ports;
mod pricing;
mod processing;
mod progress;
mod providers;
mod retention;
mod search;
mod service;
mod transcript;
mod visibility;

pub use analysis::{
    GeneralAnalysis, Sentiment, SentimentValue, general_prompt, general_schema, parse_general,
};
pub use catalog::{
    CatalogPorts, CatalogService, Checklist, ChecklistItem, ChecklistSegment, ItemInput, Operator,
    SegmentInput,
};
pub use checklist_analysis::{
    ChecklistResult, ItemVerdict, checklist_prompt, checklist_schema, parse_checklist,
};
pub use crm::{CrmDeal, CrmLookup, CrmOutcome};
pub use feed::{ChangeFeed, RecordChange};
pub use filename::{PbxFileName, parse_pbx_file_name};
pub use metrics::{CallMetrics, compute_metrics};
pub use model::{
    AudioFormat, CallType, EXACT_TOTAL_LIMIT, Record, RecordFilter, RecordOrder, RecordPage,
    RecordPayload, RecordScope, RecordStatus, UploadFile,
};
pub use phone::normalise_phone;
pub use ports::{
    AudioProbe, AudioStore, Billing, CallAnalyzer, CallAudioSource, ChangeWaiter,
    ChecklistRepository, CustomerLookup, FetchedAudio, JobQueue, OperatorRepository,
    ProcessingContext, ProcessingObserver, RecordChangeSignal, RecordRepository,
    RetentionCandidates, SpeechToText, StoredAudio, Undecodable,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{
    MockAudioProbe, MockAudioStore, MockBilling, MockCallAnalyzer, MockCallAudioSource,
    MockChecklistRepository, MockCustomerLookup, MockJobQueue, MockOperatorRepository,
    MockProcessingContext, MockProcessingObserver, MockRecordChangeSignal, MockRecordRepository,
    MockRetentionCandidates, MockSpeechToText,
};
pub use pricing::{CallPrice, Prices};
pub use processing::{
    BalanceView, Charge, ChargeItem, ChargeStep, Job, ProcessingPolicy, ProcessingPorts,
    ProcessingService, Providers, QueueStats,
};
pub use progress::StepOutcome;
pub use providers::ProviderError;
pub use retention::{RetentionPorts, RetentionReport, RetentionService};
pub use search::{PhoneSearch, TranscriptHit, TranscriptQuery};
pub use service::{AudioHandle, Estimate, EstimatedFile, RecordPolicy, RecordPorts, RecordService};
pub use transcript::{SpeakerRole, Turn, Utterance, as_dialogue, assign_roles, build_turns};
pub use visibility::{may_view, record_scope, visible_record};
