use async_trait::async_trait;
use bytes::Bytes;
use dialix_calls::{AudioFormat, ProviderError, SpeechToText, Utterance};
use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::http::{self, HttpPolicy};

/// OpenAI-compatible `/v1/audio/transcriptions` (OpenAI, local Whisper servers).
pub struct OpenAiTranscriber {
    client: reqwest::Client,
    url: String,
    api_key: SecretString,
    model: String,
    policy: HttpPolicy,
}

impl OpenAiTranscriber {
    /// `base_url` with or without the trailing `/v1`.
    pub fn new(base_url: &str, api_key: SecretString, model: String, policy: HttpPolicy) -> Self {
        let base = base_url.trim_end_matches('/').trim_end_matches("/v1");
        Self {
            client: http::client(&policy),
            url: format!("{base}/v1/audio/transcriptions"),
            api_key,
            model,
            policy,
        }
    }
}

#[derive(Deserialize)]
struct Verbose {
    #[serde(default)]
    text: String,
    #[serde(default)]
    segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Segment {
    start: f64,
    end: f64,
    text: String,
    /// Diarizing servers add a speaker label.
    #[serde(default)]
    speaker: Option<serde_json::Value>,
}

#[async_trait]
impl SpeechToText for OpenAiTranscriber {
    async fn transcribe(
        &self,
        audio: Bytes,
        file_name: String,
        format: AudioFormat,
        language: String,
    ) -> Result<Vec<Utterance>, ProviderError> {
        let what = "speech-to-text (OpenAI-compatible)";
        let response = http::send(&self.policy, what, || {
            // A clone of `Bytes` shares the buffer: retries do not copy the audio.
            let part = Part::stream_with_length(audio.clone(), audio.len() as u64)
                .file_name(file_name.clone())
                .mime_str(format.mime())
                .expect("audio MIME types are valid");
            let form = Form::new()
                .part("file", part)
                .text("model", self.model.clone())
                .text("language", language.clone())
                .text("response_format", "verbose_json")
                .text("timestamp_granularities[]", "segment");
            self.client
                .post(&self.url)
                .bearer_auth(self.api_key.expose_secret())
                .multipart(form)
        })
        .await?;
        let reply: Verbose = http::json(response, what).await?;
        if reply.segments.is_empty() {
            return Ok(if reply.text.trim().is_empty() {
                Vec::new()
            } else {
                vec![Utterance {
                    speaker: "0".into(),
                    start_ms: 0,
                    end_ms: 0,
                    text: reply.text,
                }]
            });
        }
        Ok(reply
            .segments
            .into_iter()
            .map(|s| Utterance {
                speaker: s
                    .speaker
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_else(|| "0".into()),
                start_ms: seconds_to_ms(s.start),
                end_ms: seconds_to_ms(s.end),
                text: s.text,
            })
            .collect())
    }
}

pub(crate) fn seconds_to_ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round() as u64
    } else {
        0
    }
}
