use async_trait::async_trait;
use dialix_calls::{CallAnalyzer, ProviderError};
use dialix_chat::{Completion, LanguageModel, Prompt, PromptRole, TextSink, TokenUsage};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::chat_stream::streamed;
use super::http::{self, HttpPolicy};

/// Where chat completions are sent.
#[derive(Debug, Clone)]
pub enum ChatEndpoint {
    /// OpenAI or any compatible server; `base_url` ends in `/v1`.
    OpenAi {
        base_url: String,
        api_key: SecretString,
        model: String,
    },
    /// An Azure OpenAI deployment.
    Azure {
        endpoint: String,
        api_key: SecretString,
        deployment: String,
        api_version: String,
    },
}

/// Chat completions with JSON-schema constrained output: the analyses of processing and the
/// answers of AI chat, whole or streamed (`chat_stream.rs`), over one HTTP client.
pub struct OpenAiChat {
    client: reqwest::Client,
    endpoint: ChatEndpoint,
    policy: HttpPolicy,
}

impl OpenAiChat {
    pub fn new(endpoint: ChatEndpoint, policy: HttpPolicy) -> Self {
        Self {
            client: http::client(&policy),
            endpoint,
            policy,
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    choices: Vec<Choice>,
    /// Not every compatible server reports it.
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl OpenAiChat {
    /// One completion of `messages` (OpenAI's `[{role, content}]`) constrained to `schema`:
    /// the reply's content and usage. Analysis and chat share it, so both go through the
    /// same endpoint, retry policy and error mapping.
    async fn complete(
        &self,
        messages: Value,
        schema_name: &str,
        schema: Value,
    ) -> Result<(String, Option<Usage>), ProviderError> {
        let response = self
            .send(request_body(messages, schema_name, schema, false))
            .await?;
        let reply: Reply = http::json(response, WHAT).await?;
        let choice = reply
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Permanent("chat completion: no choices".into()))?;
        check_finish(choice.finish_reason.as_deref())?;
        let content = non_empty(choice.message.content)?;
        Ok((content, reply.usage))
    }

    /// Sends a request body to the configured endpoint, with the retry policy (a streamed
    /// reply is retried only until its status arrives).
    async fn send(&self, mut body: Value) -> Result<reqwest::Response, ProviderError> {
        match &self.endpoint {
            ChatEndpoint::OpenAi {
                base_url,
                api_key,
                model,
            } => {
                body["model"] = json!(model);
                let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
                http::send(&self.policy, WHAT, || {
                    self.client
                        .post(&url)
                        .bearer_auth(api_key.expose_secret())
                        .json(&body)
                })
                .await
            }
            ChatEndpoint::Azure {
                endpoint,
                api_key,
                deployment,
                api_version,
            } => {
                let url = format!(
                    "{}/openai/deployments/{deployment}/chat/completions",
                    endpoint.trim_end_matches('/')
                );
                http::send(&self.policy, WHAT, || {
                    self.client
                        .post(&url)
                        .query(&[("api-version", api_version.as_str())])
                        .header("api-key", api_key.expose_secret())
                        .json(&body)
                })
                .await
            }
        }
    }
}

/// Names the call in errors.
const WHAT: &str = "chat completion";

fn request_body(messages: Value, schema_name: &str, schema: Value, stream: bool) -> Value {
    let mut body = json!({
        "messages": messages,
        "temperature": 0,
        "stream": stream,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": schema, "strict": true}
        }
    });
    if stream {
        // Without it a stream reports no token counts, which usage statistics need.
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

/// A reply cut off by the token limit is not usable JSON.
pub(super) fn check_finish(finish_reason: Option<&str>) -> Result<(), ProviderError> {
    if finish_reason == Some("length") {
        return Err(ProviderError::Permanent(
            "chat completion: the reply was cut off (finish_reason=length)".into(),
        ));
    }
    Ok(())
}

fn non_empty(content: Option<String>) -> Result<String, ProviderError> {
    content
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ProviderError::Permanent("chat completion: empty reply".into()))
}

fn prompt_messages(prompt: &Prompt) -> Value {
    let messages: Vec<Value> = prompt
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                PromptRole::System => "system",
                PromptRole::User => "user",
                PromptRole::Assistant => "assistant",
            };
            json!({"role": role, "content": m.content})
        })
        .collect();
    Value::Array(messages)
}

fn token_usage(usage: Option<Usage>) -> Option<TokenUsage> {
    usage.map(|u| TokenUsage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
    })
}

#[async_trait]
impl CallAnalyzer for OpenAiChat {
    async fn complete_json(
        &self,
        system: String,
        user: String,
        schema_name: String,
        schema: Value,
    ) -> Result<String, ProviderError> {
        let messages = json!([
            {"role": "system", "content": system},
            {"role": "user", "content": user}
        ]);
        let (content, _) = self.complete(messages, &schema_name, schema).await?;
        Ok(content)
    }
}

#[async_trait]
impl LanguageModel for OpenAiChat {
    async fn complete(&self, prompt: Prompt) -> Result<Completion, ProviderError> {
        let messages = prompt_messages(&prompt);
        let (content, usage) =
            OpenAiChat::complete(self, messages, &prompt.schema_name, prompt.schema).await?;
        Ok(Completion {
            content,
            usage: token_usage(usage),
        })
    }

    async fn stream(
        &self,
        prompt: Prompt,
        sink: &mut Box<dyn TextSink>,
    ) -> Result<Option<Completion>, ProviderError> {
        let body = request_body(
            prompt_messages(&prompt),
            &prompt.schema_name,
            prompt.schema,
            true,
        );
        let response = self.send(body).await?;
        let Some((content, usage)) = streamed(response, sink.as_mut()).await? else {
            return Ok(None);
        };
        Ok(Some(Completion {
            content: non_empty(Some(content))?,
            usage: token_usage(usage),
        }))
    }
}
