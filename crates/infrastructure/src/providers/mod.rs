//! HTTP clients of the external services (wire formats in `shared/EXTERNAL_APIS.md`).

mod chat;
mod chat_stream;
mod http;
mod mohirai;
mod openai_stt;

pub use chat::{ChatEndpoint, OpenAiChat};
pub use http::{HttpPolicy, install_tls_provider};
pub(crate) use http::{client, excerpt};
pub use mohirai::MohirAiTranscriber;
pub use openai_stt::OpenAiTranscriber;
