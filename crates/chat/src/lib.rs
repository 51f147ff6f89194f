//! AI chat about a call: a user opens a session on a call they may see (or on every call of a
//! client number they may see) and asks up to a limited number of questions; the model
//! answers only from the calls' transcripts and analyses, cites the turns it used (citations
//! are checked against the transcripts) and says so when the calls do not contain the answer.
//! Answers can stream as the model writes them. Personal data is masked before text leaves
//! for the model. Also: questions worth asking, built from the call's analysis without a
//! model call.

mod answer_text;
mod citations;
mod language;
mod masking;
mod model;
mod ports;
mod prompt;
mod service;
mod suggestions;

pub use model::{
    Answer, ChatMessage, ChatPolicy, ChatReservation, ChatSession, ChatSubject, Citation, Language,
    MAX_QUESTION_CHARS, MessageRole, QuestionSlot, SessionTranscript, TokenUsage,
};
pub use ports::{
    ChatRepository, Completion, LanguageModel, Prompt, PromptMessage, PromptRole, TextSink,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockChatRepository, MockLanguageModel};
pub use service::{ChatModel, ChatPorts, ChatService};
