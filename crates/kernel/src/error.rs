use std::collections::BTreeMap;

/// What can go wrong in a use case, by kind rather than by cause: the API maps each kind to
/// one HTTP status and problem type, once.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// The thing does not exist, or the actor may not know it exists (never reveal other
    /// tenants' ids).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule would be broken; `field` names the input that clashes.
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// The row changed between the read a use case decided on and its write (another request
    /// got there first). Use cases re-run on fresh data with [`retry_on_stale`]; what still
    /// fails after that reaches the caller as 409.
    #[error("the {0} was changed by another request at the same time; reload it and try again")]
    Stale(&'static str),
    /// The input is well-formed but breaks a rule; one message per offending field.
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    /// No valid credentials: wrong password, bad or expired token, blocked account.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but this actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The company's balance does not cover the work asked for.
    #[error("{0}")]
    PaymentRequired(String),
    /// A provider the work needs is not configured; the message names the setting.
    #[error("{0}")]
    Unavailable(String),
    /// A company's own service (its PBX, its CRM) refused a request or could not be reached;
    /// the message says which and what it answered, for the company to fix its side.
    #[error("{0}")]
    ExternalService(String),
    /// Too many attempts; the caller may retry after this many seconds.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Every question a chat session allows has been asked; asking again will not help.
    #[error("question limit reached: a chat session allows {max} questions; open a new session")]
    QuestionLimitReached { max: u32 },
    /// An external service the request waited for (the language model) failed or answered
    /// unusably; nothing was stored. The reason is for the log, not for the caller.
    #[error("{0}")]
    ProviderFailed(String),
    /// An external service is rate limiting us; the caller may retry after this many seconds.
    #[error("the provider is busy, retry in {retry_after_secs} s")]
    ProviderBusy { retry_after_secs: u64 },
    /// A dependency (database, provider) failed; details go to the log, not to the caller.
    #[error("internal error: {0}")]
    Internal(#[source] InternalError),
}

/// What went wrong inside, with the underlying error kept as its `source()` so the one log
/// line at the edge can show the whole chain.
#[derive(Debug, Clone)]
pub struct InternalError {
    context: String,
    cause: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl InternalError {
    /// `context: cause: its cause: …`, for the log.
    pub fn chain(&self) -> String {
        let mut text = self.context.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = self
            .cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static));
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }
}

impl std::fmt::Display for InternalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context)
    }
}

impl std::error::Error for InternalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// Two internal errors are alike when they say the same; causes are not compared.
impl PartialEq for InternalError {
    fn eq(&self, other: &Self) -> bool {
        self.context == other.context
    }
}

impl Eq for InternalError {}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    /// What to log: the message, and for internal errors the whole cause chain.
    pub fn chain(&self) -> String {
        match self {
            DomainError::Internal(internal) => format!("internal error: {}", internal.chain()),
            other => other.to_string(),
        }
    }

    /// An internal error described by `message` alone.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        DomainError::Internal(InternalError {
            context: message.to_string(),
            cause: None,
        })
    }

    /// An internal error while doing `context`, keeping `cause` as its source.
    pub fn caused(
        context: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DomainError::Internal(InternalError {
            context: context.into(),
            cause: Some(std::sync::Arc::new(cause)),
        })
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            field,
            message: message.into(),
        }
    }
}

/// How often a use case is re-run on fresh data when its write finds the row changed.
const STALE_ATTEMPTS: usize = 5;

/// Runs `attempt` — a use case that reads, decides and writes — again while its write finds
/// the row changed meanwhile (`Stale`). Each run re-reads, so every rule is checked against
/// the data the write applies to, and concurrent changes to different fields both land.
pub async fn retry_on_stale<T, F, Fut>(mut attempt: F) -> DomainResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = DomainResult<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(DomainError::Stale(_)) if tries < STALE_ATTEMPTS => tries += 1,
            outcome => return outcome,
        }
    }
}

/// Validation messages keyed by field name, collected so the caller sees every problem at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless `ok`; the first message for a field wins.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.add(field, message);
        }
        self
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) -> &mut Self {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Ok(())` when nothing was recorded, otherwise a `Validation` error carrying all of it.
    pub fn into_result(self) -> DomainResult<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self))
        }
    }

    pub fn single(field: &str, message: impl Into<String>) -> DomainError {
        let mut errors = Self::new();
        errors.add(field, message);
        DomainError::Validation(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stale_writes_are_retried_a_bounded_number_of_times() {
        let mut runs = 0;
        let outcome: DomainResult<()> = retry_on_stale(|| {
            runs += 1;
            async { Err(DomainError::Stale("account")) }
        })
        .await;
        assert_eq!(outcome, Err(DomainError::Stale("account")));
        assert_eq!(runs, STALE_ATTEMPTS);

        let mut runs = 0;
        let outcome = retry_on_stale(|| {
            runs += 1;
            let result = if runs < 3 {
                Err(DomainError::Stale("account"))
            } else {
                Ok(runs)
            };
            async move { result }
        })
        .await;
        assert_eq!(outcome, Ok(3));
    }

    #[test]
    fn an_internal_error_keeps_its_cause_chain() {
        let io = std::io::Error::other("disk full");
        let error = DomainError::caused("cannot write audio", io);
        let DomainError::Internal(internal) = &error else {
            panic!("an internal error");
        };
        assert_eq!(internal.chain(), "cannot write audio: disk full");
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(error.to_string(), "internal error: cannot write audio");
    }

    #[test]
    fn field_errors_keep_every_field_and_the_first_message() {
        let mut errors = FieldErrors::new();
        errors
            .check(true, "email", "never recorded")
            .check(false, "password", "too short")
            .check(false, "password", "second message is dropped")
            .check(false, "role", "unknown role");
        let collected: Vec<_> = errors.iter().collect();
        assert_eq!(
            collected,
            vec![("password", "too short"), ("role", "unknown role")]
        );
        assert!(matches!(
            errors.into_result(),
            Err(DomainError::Validation(_))
        ));
        assert_eq!(FieldErrors::new().into_result(), Ok(()));
    }
}
