use dialix_calls::SpeakerRole;
use dialix_kernel::{AccountId, ChatMessageId, ChatSessionId, CompanyId, RecordId, RowVersion};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The languages the product speaks; answers and suggested questions come in one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Uz,
    Ru,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Uz, Language::Ru, Language::En];

    /// The code stored in user settings and used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Language::Uz => "uz",
            Language::Ru => "ru",
            Language::En => "en",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == value)
    }

    /// Its English name, as the model is told which language to answer in.
    pub const fn name(self) -> &'static str {
        match self {
            Language::Uz => "Uzbek",
            Language::Ru => "Russian",
            Language::En => "English",
        }
    }
}

/// What a session's questions are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatSubject {
    /// One call.
    Record(RecordId),
    /// Every call of one client number (E.164) the session's owner may see, read afresh for
    /// each question.
    ClientNumber(String),
}

/// A conversation of one user with the model about one subject, with a question allowance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSession {
    pub id: ChatSessionId,
    /// Who opened it; only they see it.
    pub owner_id: AccountId,
    /// The company whose call it is: its balance pays for the questions and its
    /// administrators read the session's trail.
    pub company_id: CompanyId,
    pub subject: ChatSubject,
    /// Questions answered so far; never above the limit.
    pub questions_used: u32,
    pub created_at: OffsetDateTime,
    /// The last answer's time (the creation time before the first).
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub row_version: RowVersion,
}

impl ChatSession {
    /// Questions still allowed under a limit of `max`.
    pub fn remaining(&self, max: u32) -> u32 {
        max.saturating_sub(self.questions_used)
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageRole {
    /// The user's question.
    User,
    /// The model's answer.
    Assistant,
}

impl MessageRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageRole::User => "user",
            MessageRole::Assistant => "assistant",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [MessageRole::User, MessageRole::Assistant]
            .into_iter()
            .find(|r| r.as_str() == value)
    }
}

/// Where in a call an answer's statement comes from: checked against the transcript, never
/// made up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub record_id: RecordId,
    /// The cited turn's start and end.
    pub start_ms: u64,
    pub end_ms: u64,
    pub speaker: SpeakerRole,
    /// Words of that turn, as the model quoted them (personal data masked when masking is
    /// on).
    pub quote: String,
}

/// What a provider reported a completion cost, for usage statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// One question or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: ChatMessageId,
    pub session_id: ChatSessionId,
    /// The place in the session: question n is `2n - 1`, its answer `2n`.
    pub seq: u32,
    pub role: MessageRole,
    pub content: String,
    /// An answer's checked citations; empty for questions.
    pub citations: Vec<Citation>,
    /// An answer's token counts, when the provider reported them.
    pub usage: Option<TokenUsage>,
    pub created_at: OffsetDateTime,
}

/// A session with its messages in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTranscript {
    pub session: ChatSession,
    pub messages: Vec<ChatMessage>,
}

/// What asking gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub message: ChatMessage,
    /// The language the answer was asked for.
    pub language: Language,
    pub remaining_questions: u32,
}

/// The outcome of taking a question from a session's allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionSlot {
    /// Taken: this is question `number` (1-based) of the session.
    Taken { number: u32 },
    /// Every question is used.
    LimitReached,
    /// The session was deleted meanwhile.
    Gone,
}

/// The limits and prices chat runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatPolicy {
    /// Questions per session (`MAX_QUESTIONS_PER_SESSION`).
    pub max_questions: u32,
    /// Charged per answered question, minor units (`PRICE_CHAT_PER_QUESTION`).
    pub price_per_question: i64,
    /// Whether card and phone numbers are masked before text leaves for the model
    /// (`CHAT_MASK_PII`).
    pub mask_pii: bool,
    /// How many characters of calls a client number's session sends the model
    /// (`CHAT_CONTEXT_CHARS`): the newest calls whole while they fit, older ones by summary.
    pub context_chars: usize,
}

/// A question's longest accepted length, in characters.
pub const MAX_QUESTION_CHARS: usize = 2000;

/// A question's price held aside while the model answers. It is a row of its own so that the
/// reservation of a question whose process died is found and given back
/// ([`crate::ChatService::release_abandoned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReservation {
    /// The question's message id (the message itself is stored only with its answer).
    pub id: ChatMessageId,
    pub company_id: CompanyId,
    pub amount: i64,
    pub created_at: OffsetDateTime,
}
