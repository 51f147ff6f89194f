//! The typed shape of what processing produces, as the API document declares it: generated
//! clients get named types and enums instead of free-form objects. Each mirrors a domain type
//! of `dialix_calls` field for field, so the JSON is the domain's serde form.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a record is in its processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordStatus {
    Uploaded,
    Queued,
    /// An imported call whose audio is being fetched from the PBX.
    Downloading,
    Transcribing,
    Analysing,
    Done,
    Failed,
}

impl From<dialix_calls::RecordStatus> for RecordStatus {
    fn from(status: dialix_calls::RecordStatus) -> Self {
        use dialix_calls::RecordStatus as S;
        match status {
            S::Uploaded => Self::Uploaded,
            S::Queued => Self::Queued,
            S::Downloading => Self::Downloading,
            S::Transcribing => Self::Transcribing,
            S::Analysing => Self::Analysing,
            S::Done => Self::Done,
            S::Failed => Self::Failed,
        }
    }
}

/// Who called whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallType {
    Inbound,
    Outbound,
}

impl From<dialix_calls::CallType> for CallType {
    fn from(call_type: dialix_calls::CallType) -> Self {
        match call_type {
            dialix_calls::CallType::Inbound => Self::Inbound,
            dialix_calls::CallType::Outbound => Self::Outbound,
        }
    }
}

/// Who a speaker is in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpeakerRole {
    Operator,
    Customer,
}

/// One uninterrupted stretch of one speaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptTurn {
    /// The provider's speaker label (`"0"`, `"1"`, …).
    speaker: String,
    role: SpeakerRole,
    start_ms: u64,
    end_ms: u64,
    text: String,
}

impl From<dialix_calls::Turn> for TranscriptTurn {
    fn from(turn: dialix_calls::Turn) -> Self {
        Self {
            speaker: turn.speaker,
            role: turn.role.into(),
            start_ms: turn.start_ms,
            end_ms: turn.end_ms,
            text: turn.text,
        }
    }
}

impl From<dialix_calls::SpeakerRole> for SpeakerRole {
    fn from(role: dialix_calls::SpeakerRole) -> Self {
        match role {
            dialix_calls::SpeakerRole::Operator => Self::Operator,
            dialix_calls::SpeakerRole::Customer => Self::Customer,
        }
    }
}

/// Where a transcript search matched in the call: the first turn holding the words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptMatch {
    /// The provider's speaker label of the turn.
    speaker: String,
    role: SpeakerRole,
    /// When the turn starts and ends in the call.
    start_ms: u64,
    end_ms: u64,
    /// The matching words with up to 60 characters of the turn on either side, `…` where
    /// the turn is cut.
    snippet: String,
}

impl From<dialix_calls::TranscriptHit> for TranscriptMatch {
    fn from(hit: dialix_calls::TranscriptHit) -> Self {
        Self {
            speaker: hit.speaker,
            role: hit.role.into(),
            start_ms: hit.start_ms,
            end_ms: hit.end_ms,
            snippet: hit.snippet,
        }
    }
}

/// What the timing of the conversation says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallMetrics {
    /// From the start of the recording to the operator's first word.
    operator_answer_delay_ms: Option<u64>,
    operator_talk_ms: u64,
    customer_talk_ms: u64,
    /// Operator talk time over customer talk time (`null` when the customer is silent).
    talk_listen_ratio: Option<f64>,
    /// The longest stretch in which nobody speaks, between the first and the last turn.
    longest_silence_ms: u64,
    /// Turns that start before the other speaker's previous turn ended.
    interruptions: u32,
    /// Words per minute of operator speech.
    operator_words_per_minute: Option<f64>,
}

impl From<dialix_calls::CallMetrics> for CallMetrics {
    fn from(m: dialix_calls::CallMetrics) -> Self {
        Self {
            operator_answer_delay_ms: m.operator_answer_delay_ms,
            operator_talk_ms: m.operator_talk_ms,
            customer_talk_ms: m.customer_talk_ms,
            talk_listen_ratio: m.talk_listen_ratio,
            longest_silence_ms: m.longest_silence_ms,
            interruptions: m.interruptions,
            operator_words_per_minute: m.operator_words_per_minute,
        }
    }
}

/// How a conversation, or one side of it, felt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SentimentValue {
    Positive,
    Neutral,
    Negative,
}

/// A sentiment with the model's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Sentiment {
    value: SentimentValue,
    reason: String,
}

impl From<dialix_calls::SentimentValue> for SentimentValue {
    fn from(value: dialix_calls::SentimentValue) -> Self {
        use dialix_calls::SentimentValue as V;
        match value {
            V::Positive => SentimentValue::Positive,
            V::Neutral => SentimentValue::Neutral,
            V::Negative => SentimentValue::Negative,
        }
    }
}

impl From<dialix_calls::Sentiment> for Sentiment {
    fn from(s: dialix_calls::Sentiment) -> Self {
        Self {
            value: s.value.into(),
            reason: s.reason,
        }
    }
}

/// The general analysis of a call, written in the company's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GeneralAnalysis {
    sentiment_conversation: Sentiment,
    sentiment_client: Sentiment,
    sentiment_operator: Sentiment,
    summary: String,
    /// One of the company's configured purposes, or `other`.
    call_purpose: String,
    is_conversation_over: bool,
    is_customer_satisfied: bool,
    key_words: Vec<String>,
}

impl From<dialix_calls::GeneralAnalysis> for GeneralAnalysis {
    fn from(g: dialix_calls::GeneralAnalysis) -> Self {
        Self {
            sentiment_conversation: g.sentiment_conversation.into(),
            sentiment_client: g.sentiment_client.into(),
            sentiment_operator: g.sentiment_operator.into(),
            summary: g.summary,
            call_purpose: g.call_purpose,
            is_conversation_over: g.is_conversation_over,
            is_customer_satisfied: g.is_customer_satisfied,
            key_words: g.key_words,
        }
    }
}

/// The verdict on one checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemVerdict {
    /// `segment.item`, e.g. `1.2`.
    item_id: String,
    /// `null`: the item did not apply to this call.
    passed: Option<bool>,
    /// A quote from the transcript.
    evidence: String,
    /// Where in the call the evidence is.
    at_ms: Option<u64>,
    /// A failed critical item makes the call non-compliant whatever the score.
    critical: bool,
}

/// A call scored against one checklist version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistResult {
    checklist_id: Uuid,
    version: u32,
    items: Vec<ItemVerdict>,
    /// The weight of passed items over the weight of applicable ones.
    #[schema(minimum = 0, maximum = 100)]
    score: f64,
    /// The version's pass mark (0: only critical items decide).
    #[schema(minimum = 0, maximum = 100)]
    pass_mark: u32,
    /// No critical item failed and the score reached the pass mark.
    compliant: bool,
}

impl From<dialix_calls::ChecklistResult> for ChecklistResult {
    fn from(c: dialix_calls::ChecklistResult) -> Self {
        Self {
            checklist_id: c.checklist_id.as_uuid(),
            version: c.version,
            items: c
                .items
                .into_iter()
                .map(|i| ItemVerdict {
                    item_id: i.item_id,
                    passed: i.passed,
                    evidence: i.evidence,
                    at_ms: i.at_ms,
                    critical: i.critical,
                })
                .collect(),
            score: c.score,
            pass_mark: c.pass_mark,
            compliant: c.compliant,
        }
    }
}

/// How a CRM lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CrmOutcome {
    /// A contact has the call's number.
    Found,
    /// The CRM answered; no contact has the number.
    NotFound,
    /// The CRM could not be asked (see `error`); `POST /records/{id}/crm/refresh` asks again.
    Failed,
}

/// A deal of the client's contact.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CrmDeal {
    id: String,
    title: String,
    /// The CRM's stage code, e.g. `C1:NEW`.
    stage_id: String,
    /// The stage's name in the CRM, when it names it.
    stage: Option<String>,
    #[serde(with = "crate::http::timestamp::option")]
    created_at: Option<OffsetDateTime>,
    #[serde(with = "crate::http::timestamp::option")]
    closed_at: Option<OffsetDateTime>,
}

/// What the company's CRM (Bitrix24) knows about the call's client.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CrmLookup {
    outcome: CrmOutcome,
    /// The contact's id in the CRM.
    contact_id: Option<String>,
    customer_name: Option<String>,
    /// Newest first.
    deals: Vec<CrmDeal>,
    /// Why the lookup failed (the CRM's answer).
    error: Option<String>,
    #[serde(with = "crate::http::timestamp")]
    looked_up_at: OffsetDateTime,
}

impl From<dialix_calls::CrmLookup> for CrmLookup {
    fn from(lookup: dialix_calls::CrmLookup) -> Self {
        Self {
            outcome: match lookup.outcome {
                dialix_calls::CrmOutcome::Found => CrmOutcome::Found,
                dialix_calls::CrmOutcome::NotFound => CrmOutcome::NotFound,
                dialix_calls::CrmOutcome::Failed => CrmOutcome::Failed,
            },
            contact_id: lookup.contact_id,
            customer_name: lookup.customer_name,
            deals: lookup
                .deals
                .into_iter()
                .map(|d| CrmDeal {
                    id: d.id,
                    title: d.title,
                    stage_id: d.stage_id,
                    stage: d.stage,
                    created_at: d.created_at,
                    closed_at: d.closed_at,
                })
                .collect(),
            error: lookup.error,
            looked_up_at: lookup.looked_up_at,
        }
    }
}
