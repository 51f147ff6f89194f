//! Ports to the external services: speech-to-text and the language model.

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;

use crate::{AudioFormat, Utterance};

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Worth trying again later: rate limited, server error, timeout, connection lost.
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help: refused request, a reply that is not what was asked.
    #[error("{0}")]
    Permanent(String),
}

/// Turns audio into words or segments with speaker labels.
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
