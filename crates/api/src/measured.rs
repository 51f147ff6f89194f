//! One decorator for every provider adapter: counts and times each request in the metrics,
//! so the adapters themselves know nothing of monitoring. A request cut off at shutdown has
//! no outcome and is not counted.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use dialix_calls::{AudioFormat, CallAnalyzer, ProviderError, SpeechToText, Utterance};
use dialix_calls::{CrmDeal, FetchedAudio};
use dialix_chat::{Completion, LanguageModel, Prompt, TextSink};
use dialix_integrations::{
    BitrixAccount, CrmClient, CrmContact, PbxAccount, PbxCall, PbxClient, PbxUser,
};
use serde_json::Value;
use time::OffsetDateTime;

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

    /// Runs `request`, counting and timing it.
    async fn measure<T>(
        &self,
        request: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let started = Instant::now();
        let result = request.await;
        self.record(started, &result);
        result
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
        self.measure(self.inner.transcribe(audio, file_name, format, language))
            .await
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
        self.measure(self.inner.complete_json(system, user, schema_name, schema))
            .await
    }
}

#[async_trait]
impl<P: LanguageModel> LanguageModel for Measured<P> {
    async fn complete(&self, prompt: Prompt) -> Result<Completion, ProviderError> {
        self.measure(self.inner.complete(prompt)).await
    }

    /// Timed to the end of the stream (or until its listener went away).
    async fn stream(
        &self,
        prompt: Prompt,
        sink: &mut Box<dyn TextSink>,
    ) -> Result<Option<Completion>, ProviderError> {
        self.measure(self.inner.stream(prompt, sink)).await
    }
}

#[async_trait]
impl<P: PbxClient> PbxClient for Measured<P> {
    async fn check(&self, account: &PbxAccount) -> Result<(), ProviderError> {
        self.measure(self.inner.check(account)).await
    }

    async fn calls(
        &self,
        account: &PbxAccount,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<PbxCall>, ProviderError> {
        self.measure(self.inner.calls(account, from, to)).await
    }

    async fn call(
        &self,
        account: &PbxAccount,
        call_id: &str,
    ) -> Result<Option<PbxCall>, ProviderError> {
        self.measure(self.inner.call(account, call_id)).await
    }

    async fn download(
        &self,
        account: &PbxAccount,
        call_id: &str,
    ) -> Result<FetchedAudio, ProviderError> {
        self.measure(self.inner.download(account, call_id)).await
    }

    async fn users(&self, account: &PbxAccount) -> Result<Vec<PbxUser>, ProviderError> {
        self.measure(self.inner.users(account)).await
    }
}

#[async_trait]
impl<P: CrmClient> CrmClient for Measured<P> {
    async fn check(&self, account: &BitrixAccount) -> Result<(), ProviderError> {
        self.measure(self.inner.check(account)).await
    }

    async fn find_contact(
        &self,
        account: &BitrixAccount,
        phone: &str,
    ) -> Result<Option<CrmContact>, ProviderError> {
        self.measure(self.inner.find_contact(account, phone)).await
    }

    async fn deals(
        &self,
        account: &BitrixAccount,
        contact_id: &str,
    ) -> Result<Vec<CrmDeal>, ProviderError> {
        self.measure(self.inner.deals(account, contact_id)).await
    }

    async fn stage_names(
        &self,
        account: &BitrixAccount,
    ) -> Result<HashMap<String, String>, ProviderError> {
        self.measure(self.inner.stage_names(account)).await
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
