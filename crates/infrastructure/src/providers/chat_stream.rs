//! A streamed chat completion (`"stream": true`): Server-Sent Events whose `data:` lines are
//! JSON chunks carrying `choices[0].delta.content`, ending with `data: [DONE]`. Each piece of
//! content goes to the listener as it arrives; the pieces joined are the reply.

use dialix_calls::ProviderError;
use dialix_chat::TextSink;
use serde::Deserialize;

use super::chat::{Usage, check_finish};

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    /// Sent by servers asked to report it, on the last chunk.
    #[serde(default)]
    usage: Option<Usage>,
    /// A failure reported inside the stream.
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// Reads the stream to `[DONE]`: the whole reply and its usage, or `None` as soon as `sink`
/// stops listening. A stream that breaks off or ends without `[DONE]` is `Transient`; an
/// error chunk, an unreadable chunk or a reply cut off by the token limit is `Permanent`.
pub(super) async fn streamed(
    mut response: reqwest::Response,
    sink: &mut dyn TextSink,
) -> Result<Option<(String, Option<Usage>)>, ProviderError> {
    let mut pending: Vec<u8> = Vec::new();
    let mut reply = String::new();
    let mut usage = None;
    loop {
        let chunk = response.chunk().await.map_err(|e| {
            ProviderError::Transient(format!("chat completion stream broke off: {e}"))
        })?;
        let Some(chunk) = chunk else {
            return Err(ProviderError::Transient(
                "chat completion stream ended before [DONE]".into(),
            ));
        };
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end_matches(['\r', '\n']).strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                return Ok(Some((reply, usage)));
            }
            let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
                ProviderError::Permanent(format!("chat completion stream: unreadable chunk: {e}"))
            })?;
            if let Some(error) = chunk.error {
                return Err(ProviderError::Permanent(format!(
                    "chat completion stream: the provider failed: {error}"
                )));
            }
            usage = chunk.usage.or(usage);
            let Some(choice) = chunk.choices.into_iter().next() else {
                continue;
            };
            check_finish(choice.finish_reason.as_deref())?;
            if let Some(piece) = choice.delta.content.filter(|p| !p.is_empty()) {
                reply.push_str(&piece);
                if !sink.send(&piece) {
                    return Ok(None);
                }
            }
        }
    }
}
