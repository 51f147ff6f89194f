use async_trait::async_trait;
use dialix_calls::ProviderError;
use dialix_kernel::{AccountId, ChatMessageId, ChatSessionId, DomainResult, Page, PageRequest, Tx};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{ChatMessage, ChatReservation, ChatSession, QuestionSlot, TokenUsage};

/// Chat sessions and their messages. A database failure is `Internal`; an absent row is
/// `Ok(None)` (reads) or `Stale` (conditional writes).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ChatRepository: Send + Sync {
    /// Stores a new session (ids are fresh, so no conflict is expected).
    async fn insert_session(&self, tx: &mut Tx, session: &ChatSession) -> DomainResult<()>;
    /// An undeleted session; `None` if there is none or it was deleted.
    async fn find_session(&self, id: ChatSessionId) -> DomainResult<Option<ChatSession>>;
    /// The owner's undeleted sessions, newest first.
    async fn sessions_of(
        &self,
        owner: AccountId,
        page: PageRequest,
    ) -> DomainResult<Page<ChatSession>>;
    /// A session's messages in order.
    async fn messages(&self, session: ChatSessionId) -> DomainResult<Vec<ChatMessage>>;
    /// Takes the next question of the session if fewer than `max` are used and it is
    /// undeleted: one conditional statement, so of two racing requests for the last question
    /// one gets it and the other `LimitReached`. Advances the row version.
    async fn take_question(
        &self,
        tx: &mut Tx,
        session: ChatSessionId,
        max: u32,
        at: OffsetDateTime,
    ) -> DomainResult<QuestionSlot>;
    /// Stores messages; a place (`seq`) already taken in the session is a `Conflict`.
    async fn insert_messages(&self, tx: &mut Tx, messages: &[ChatMessage]) -> DomainResult<()>;
    /// Soft delete, if the session is still at `session.row_version` (else `Stale`); the
    /// messages stay for the usage statistics but are no longer served.
    async fn delete_session(
        &self,
        tx: &mut Tx,
        session: &mut ChatSession,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
    /// Records a question's reservation, in the transaction that reserves the money.
    async fn insert_reservation(
        &self,
        tx: &mut Tx,
        reservation: &ChatReservation,
    ) -> DomainResult<()>;
    /// Deletes a reservation's row, in the transaction that settles or releases its money;
    /// `false` if it was already gone (settled, released or swept by another transaction).
    async fn delete_reservation(&self, tx: &mut Tx, id: ChatMessageId) -> DomainResult<bool>;
    /// Reservations made before `before`, oldest first.
    async fn reservations_before(
        &self,
        before: OffsetDateTime,
    ) -> DomainResult<Vec<ChatReservation>>;
}

/// Who wrote a message of a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptRole {
    /// Our instructions.
    System,
    /// Data and the user's questions.
    User,
    /// The model's earlier answers.
    Assistant,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptMessage {
    pub role: PromptRole,
    pub content: String,
}

/// Everything sent to the model for one answer: the messages, and the JSON schema the reply
/// must follow (structured output, strict).
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub messages: Vec<PromptMessage>,
    pub schema_name: String,
    pub schema: Value,
}

/// A model's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The reply text (expected to be JSON following the prompt's schema; the caller checks).
    pub content: String,
    /// `None` when the provider did not report usage.
    pub usage: Option<TokenUsage>,
}

/// Where text goes as it is written, for a listener that may go away meanwhile.
pub trait TextSink: Send {
    /// Passes a piece on; `false` when the listener has gone (nothing more is wanted).
    fn send(&mut self, piece: &str) -> bool;
    /// Whether the listener is still there.
    fn listening(&self) -> bool;
}

/// A chat model answering a conversation in JSON. A reply that is not a usable completion is
/// `ProviderError::Permanent`; a rate limit is `RateLimited`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LanguageModel: Send + Sync {
    async fn complete(&self, prompt: Prompt) -> Result<Completion, ProviderError>;
    /// The same completion in the provider's streaming mode: each piece of the reply's
    /// content goes to `sink` as it arrives, and the whole reply is returned at the end.
    /// `Ok(None)` when the sink stopped listening (the rest of the reply was not read). A
    /// stream that breaks off is `Transient`.
    async fn stream(
        &self,
        prompt: Prompt,
        sink: &mut Box<dyn TextSink>,
    ) -> Result<Option<Completion>, ProviderError>;
}
