use async_trait::async_trait;
use dialix_calls::{CallAnalyzer, ProviderError};
use dialix_chat::{Completion, LanguageModel, Prompt, PromptRole, TokenUsage};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

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
/// answers of AI chat.
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
struct Usage {
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
        let mut body = json!({
            "messages": messages,
            "temperature": 0,
            "stream": false,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": true}
            }
        });
        let what = "chat completion";
        let response = match &self.endpoint {
            ChatEndpoint::OpenAi {
                base_url,
                api_key,
                model,
            } => {
                body["model"] = json!(model);
                let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
                http::send(&self.policy, what, || {
                    self.client
                        .post(&url)
                        .bearer_auth(api_key.expose_secret())
                        .json(&body)
                })
                .await?
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
                http::send(&self.policy, what, || {
                    self.client
                        .post(&url)
                        .query(&[("api-version", api_version.as_str())])
                        .header("api-key", api_key.expose_secret())
                        .json(&body)
                })
                .await?
            }
        };
        let reply: Reply = http::json(response, what).await?;
        let choice = reply
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::Permanent("chat completion: no choices".into()))?;
        if choice.finish_reason.as_deref() == Some("length") {
            return Err(ProviderError::Permanent(
                "chat completion: the reply was cut off (finish_reason=length)".into(),
            ));
        }
        let content = choice
            .message
            .content
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ProviderError::Permanent("chat completion: empty reply".into()))?;
        Ok((content, reply.usage))
    }
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
        let (content, usage) = OpenAiChat::complete(
            self,
            Value::Array(messages),
            &prompt.schema_name,
            prompt.schema,
        )
        .await?;
        Ok(Completion {
            content,
            usage: usage.map(|u| TokenUsage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            }),
        })
    }
}
