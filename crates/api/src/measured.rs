//! One decorator for every provider adapter: counts and times each request in the metrics,
//! so the adapters themselves know nothing of monitoring. A request cut off at shutdown has
//! no outcome and is not counted.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use dialix_calls::{AudioFormat, CallAnalyzer, ProviderError, SpeechToText, Utterance};
use dialix_chat::{Completion, LanguageModel, Prompt, TextSink};
use serde_json::Value;

use crate::http::{Metrics, Provider, RequestOutcome};

/// `inner`, measured as `provider`.
pub struct Measured<P> {
    inner: P,
    provider: Provider,
    metrics: Arc<Metrics>,
}

impl<P> Measured<P> {
    pub fn new(inner: P, provider: Provider, metrics: Arc<Metrics>) -> Self {
        Self {
            inner,
            provider,
            metrics,
        }
    }

    fn record<T>(&self, started: Instant, result: &Result<T, ProviderError>) {
        let outcome = match result {
            Ok(_) => RequestOutcome::Ok,
            Err(_) => RequestOutcome::Error,
        };
        self.metrics
            .provider_request(self.provider, outcome, started.elapsed());
    }
}

#[async_trait]
impl<P: SpeechToText> SpeechToText for Measured<P> {
    async fn transcribe(
        &self,
        audio: Bytes,
        file_name: String,
        format: AudioFormat,
        language: String,
    ) -> Result<Vec<Utterance>, ProviderError> {
        let started = Instant::now();
        let result = self
            .inner
            .transcribe(audio, file_name, format, language)
            .await;
        self.record(started, &result);
        result
    }
}

#[async_trait]
impl<P: CallAnalyzer> CallAnalyzer for Measured<P> {
    async fn complete_json(
        &self,
        system: String,
        user: String,
        schema_name: String,
        schema: Value,
    ) -> Result<String, ProviderError> {
        let started = Instant::now();
        let result = self
            .inner
            .complete_json(system, user, schema_name, schema)
            .await;
        self.record(started, &result);
        result
    }
}

#[async_trait]
impl<P: LanguageModel> LanguageModel for Measured<P> {
    async fn complete(&self, prompt: Prompt) -> Result<Completion, ProviderError> {
        let started = Instant::now();
        let result = self.inner.complete(prompt).await;
        self.record(started, &result);
        result
    }

    /// Timed to the end of the stream (or until its listener went away).
    async fn stream(
        &self,
        prompt: Prompt,
        sink: &mut Box<dyn TextSink>,
    ) -> Result<Option<Completion>, ProviderError> {
        let started = Instant::now();
        let result = self.inner.stream(prompt, sink).await;
        self.record(started, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails its first request, answers the rest.
    struct FailsOnce(std::sync::atomic::AtomicBool);

    #[async_trait]
    impl CallAnalyzer for FailsOnce {
        async fn complete_json(
            &self,
            _: String,
            _: String,
            _: String,
            _: Value,
        ) -> Result<String, ProviderError> {
            if self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
                Ok("{}".into())
            } else {
                Err(ProviderError::Transient("HTTP 500".into()))
            }
        }
    }

    #[tokio::test]
    async fn each_request_is_counted_by_outcome_and_passed_through() {
        let metrics = Arc::new(Metrics::new());
        let chat = Measured::new(
            FailsOnce(Default::default()),
            Provider::AzureOpenAi,
            metrics.clone(),
        );
        let ask = || chat.complete_json("s".into(), "u".into(), "n".into(), Value::Null);
        assert!(ask().await.is_err());
        assert_eq!(ask().await.unwrap(), "{}");
        let text = metrics.render();
        for line in [
            r#"dialix_provider_requests_total{outcome="error",provider="azure_openai"} 1"#,
            r#"dialix_provider_requests_total{outcome="ok",provider="azure_openai"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
