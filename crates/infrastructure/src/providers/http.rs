use std::time::Duration;

use dialix_calls::ProviderError;
use reqwest::{RequestBuilder, Response, StatusCode, header};

/// Timeouts and retries of provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpPolicy {
    /// For one HTTP exchange.
    pub timeout: Duration,
    /// Tries per call, the first included.
    pub attempts: u32,
    /// Waited before the second try, doubled for each further one (unless the provider says
    /// `Retry-After`).
    pub backoff: Duration,
    /// A provider's `Retry-After` above this is not waited for: the call fails as transient
    /// and the job queue retries later.
    pub max_retry_after: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            attempts: 3,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Makes ring (already linked through sqlx) the process's TLS provider, which every HTTP
/// client of this process then uses. Call it before creating any client; calling it again is
/// harmless.
pub fn install_tls_provider() {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
}

/// A client with the ring TLS provider.
pub(crate) fn client(policy: &HttpPolicy) -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(policy.timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("dialix/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is valid")
}

/// Sends the request built by `build` until it succeeds, retrying rate limits, server errors
/// and timeouts with backoff (honouring `Retry-After`). `what` names the call in errors.
pub(crate) async fn send(
    policy: &HttpPolicy,
    what: &str,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, ProviderError> {
    let mut wait = policy.backoff;
    let mut last_error = String::new();
    // `Some` while the last failure was a 429, with the wait it asked for.
    let mut rate_limited: Option<Option<Duration>> = None;
    for attempt in 1..=policy.attempts.max(1) {
        match build().send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) => {
                let status = response.status();
                let retry_after = retry_after(&response);
                let body = response.text().await.unwrap_or_default();
                last_error = format!("{what}: HTTP {status}: {}", excerpt(&body));
                let transient = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                if !transient {
                    return Err(ProviderError::Permanent(last_error));
                }
                rate_limited = (status == StatusCode::TOO_MANY_REQUESTS).then_some(retry_after);
                if let Some(after) = retry_after {
                    if after > policy.max_retry_after {
                        return Err(transient_failure(last_error, rate_limited));
                    }
                    wait = after;
                }
            }
            Err(error) => {
                rate_limited = None;
                last_error = format!("{what}: {error}");
                if !(error.is_timeout() || error.is_connect() || error.is_request()) {
                    return Err(ProviderError::Permanent(last_error));
                }
            }
        }
        if attempt < policy.attempts {
            tracing::warn!(%last_error, attempt, wait_ms = wait.as_millis() as u64, "retrying provider call");
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    Err(transient_failure(last_error, rate_limited))
}

/// A failure worth trying again later: rate limited (with the provider's wait) or not.
fn transient_failure(message: String, rate_limited: Option<Option<Duration>>) -> ProviderError {
    match rate_limited {
        Some(retry_after) => ProviderError::RateLimited {
            message,
            retry_after,
        },
        None => ProviderError::Transient(message),
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The start of a body, for error messages.
pub(crate) fn excerpt(body: &str) -> String {
    body.chars().take(300).collect()
}

/// A JSON body as `T`, or a permanent error naming the call.
pub(crate) async fn json<T: serde::de::DeserializeOwned>(
    response: Response,
    what: &str,
) -> Result<T, ProviderError> {
    let text = response
        .text()
        .await
        .map_err(|e| ProviderError::Transient(format!("{what}: reading the reply: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        ProviderError::Permanent(format!(
            "{what}: unexpected reply ({e}): {}",
            excerpt(&text)
        ))
    })
}
