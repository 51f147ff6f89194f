//! How calls to the external services fail (their ports are in `ports.rs`).

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Worth trying again later: rate limited, server error, timeout, connection lost.
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help: refused request, a reply that is not what was asked.
    #[error("{0}")]
    Permanent(String),
    /// The provider refused for now (HTTP 429) and retrying within our own wait did not
    /// help; `retry_after` is what it asked for, when it said.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<std::time::Duration>,
    },
}
