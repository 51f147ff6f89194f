//! AI chat about a call: a user opens a session on a call they may see and asks up to a
//! limited number of questions; the model answers only from the call's transcript and
//! analysis, cites the turns it used (citations are checked against the transcript) and says
//! so when the call does not contain the answer. Personal data is masked before text leaves
//! for the model. Also: questions worth asking, built from the call's analysis without a
//! model call.

mod citations;
mod language;
mod masking;
mod model;
mod ports;
mod prompt;
mod service;
mod suggestions;

pub use model::{
    Answer, ChatMessage, ChatPolicy, ChatSession, ChatSubject, Citation, Language,
    MAX_QUESTION_CHARS, MessageRole, QuestionSlot, SessionTranscript, TokenUsage,
};
pub use ports::{ChatRepository, Completion, LanguageModel, Prompt, PromptMessage, PromptRole};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockChatRepository, MockLanguageModel};
pub use service::{ChatModel, ChatPorts, ChatService};
