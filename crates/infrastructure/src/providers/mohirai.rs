use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{AudioFormat, ProviderError, SpeechToText, Utterance};
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use serde_json::Value;

use super::http::{self, HttpPolicy};
use super::openai_stt::seconds_to_ms;

/// MohirAI / UzbekVoice: submit with diarization, then poll the task until it finishes.
pub struct MohirAiTranscriber {
    client: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    poll_interval: Duration,
    /// How long a task may run before the job gives up (and retries later).
    overall_timeout: Duration,
    policy: HttpPolicy,
    /// Submissions in the last minute: the provider allows only a few per minute.
    submissions: Mutex<VecDeque<tokio::time::Instant>>,
}

/// MohirAI accepts this many submissions per minute (as the previous product found).
const SUBMISSIONS_PER_MINUTE: usize = 5;

/// How long to wait before another submission, given the recent ones (oldest first).
fn wait_before_submitting(
    recent: &VecDeque<tokio::time::Instant>,
    now: tokio::time::Instant,
) -> Duration {
    if recent.len() < SUBMISSIONS_PER_MINUTE {
        return Duration::ZERO;
    }
    let oldest = recent[recent.len() - SUBMISSIONS_PER_MINUTE];
    (oldest + Duration::from_secs(60)).saturating_duration_since(now)
}

impl MohirAiTranscriber {
    pub fn new(
        base_url: &str,
        api_key: SecretString,
        poll_interval: Duration,
        overall_timeout: Duration,
        policy: HttpPolicy,
    ) -> Self {
        Self {
            client: http::client(&policy),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            poll_interval,
            overall_timeout,
            policy,
            submissions: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until a submission is allowed, and counts it.
    async fn take_submission_slot(&self) {
        loop {
            let now = tokio::time::Instant::now();
            let wait = {
                let mut recent = self.submissions.lock().unwrap_or_else(|e| e.into_inner());
                while recent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
                {
                    recent.pop_front();
                }
                let wait = wait_before_submitting(&recent, now);
                if wait.is_zero() {
                    recent.push_back(now);
                }
                wait
            };
            if wait.is_zero() {
                return;
            }
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "MohirAI: waiting for a submission slot"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

#[derive(Deserialize)]
struct Submitted {
    id: Value,
}

#[derive(Deserialize)]
struct Task {
    #[serde(default)]
    status: String,
    #[serde(default)]
    result: Option<TaskResult>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct TaskResult {
    #[serde(default)]
    text: String,
    #[serde(default)]
    offsets: Vec<Offset>,
}

#[derive(Deserialize)]
struct Offset {
    #[serde(default)]
    speaker: Option<Value>,
    word: String,
    start: Value,
    end: Value,
}

/// Seconds given as a number or a numeric string.
fn seconds(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn label(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[async_trait]
impl SpeechToText for MohirAiTranscriber {
    async fn transcribe(
        &self,
        audio: Bytes,
        file_name: String,
        format: AudioFormat,
        language: String,
    ) -> Result<Vec<Utterance>, ProviderError> {
        self.take_submission_slot().await;
        let submit_url = format!("{}/api/v1/stt", self.base_url);
        let response = http::send(&self.policy, "MohirAI submit", || {
            // A clone of `Bytes` shares the buffer: retries do not copy the audio.
            let part = Part::stream_with_length(audio.clone(), audio.len() as u64)
                .file_name(file_name.clone())
                .mime_str(format.mime())
                .expect("audio MIME types are valid");
            let form = Form::new()
                .part("file", part)
                .text("return_offsets", "true")
                .text("run_diarization", "true")
                .text("language", language.clone())
                .text("blocking", "false");
            self.client
                .post(&submit_url)
                .header(reqwest::header::AUTHORIZATION, self.api_key.expose_secret())
                .multipart(form)
        })
        .await?;
        let submitted: Submitted = http::json(response, "MohirAI submit").await?;
        let task_id = label(&submitted.id);

        let poll_url = format!("{}/api/v1/tasks", self.base_url);
        let deadline = tokio::time::Instant::now() + self.overall_timeout;
        loop {
            let response = http::send(&self.policy, "MohirAI poll", || {
                self.client
                    .get(&poll_url)
                    .query(&[("id", task_id.as_str())])
                    .header(reqwest::header::AUTHORIZATION, self.api_key.expose_secret())
            })
            .await?;
            let task: Task = http::json(response, "MohirAI poll").await?;
            match task.status.as_str() {
                "SUCCESS" => {
                    let result = task.result.ok_or_else(|| {
                        ProviderError::Permanent("MohirAI: SUCCESS without a result".into())
                    })?;
                    return Ok(utterances(result));
                }
                "FAILED" | "ERROR" => {
                    return Err(ProviderError::Permanent(format!(
                        "MohirAI task {task_id} failed: {}",
                        task.error.map(|e| e.to_string()).unwrap_or_default()
                    )));
                }
                _ => {}
            }
            if tokio::time::Instant::now() + self.poll_interval > deadline {
                return Err(ProviderError::Transient(format!(
                    "MohirAI task {task_id} did not finish within {} s",
                    self.overall_timeout.as_secs()
                )));
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }
}

fn utterances(result: TaskResult) -> Vec<Utterance> {
    if result.offsets.is_empty() {
        return if result.text.trim().is_empty() {
            Vec::new()
        } else {
            vec![Utterance {
                speaker: "0".into(),
                start_ms: 0,
                end_ms: 0,
                text: result.text,
            }]
        };
    }
    result
        .offsets
        .into_iter()
        .map(|o| Utterance {
            speaker: o.speaker.as_ref().map_or_else(|| "0".into(), label),
            start_ms: seconds_to_ms(seconds(&o.start)),
            end_ms: seconds_to_ms(seconds(&o.end)),
            text: o.word,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_submissions_a_minute() {
        let start = tokio::time::Instant::now();
        let mut recent = VecDeque::new();
        for second in 0..5 {
            assert_eq!(
                wait_before_submitting(&recent, start + Duration::from_secs(second)),
                Duration::ZERO
            );
            recent.push_back(start + Duration::from_secs(second));
        }
        assert_eq!(
            wait_before_submitting(&recent, start + Duration::from_secs(10)),
            Duration::from_secs(50),
            "the sixth waits until the first is a minute old"
        );
    }

    #[test]
    fn offsets_accept_numbers_and_numeric_strings() {
        assert_eq!(seconds(&serde_json::json!(1.5)), 1.5);
        assert_eq!(seconds(&serde_json::json!("0.25")), 0.25);
        assert_eq!(seconds(&serde_json::json!(null)), 0.0);
    }
}
