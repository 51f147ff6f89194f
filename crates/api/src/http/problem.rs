//! RFC 7807 `application/problem+json` bodies: the one shape of every error this API sends.

use std::collections::BTreeMap;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use dialix_kernel::DomainError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response (RFC 7807).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "type": "/problems/validation-error",
    "title": "Validation failed",
    "status": 422,
    "detail": "the request has invalid fields",
    "errors": {"password": "must be at least 8 characters long"}
}))]
pub struct Problem {
    /// A stable identifier of the kind of problem; clients branch on this, not on `detail`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for humans.
    pub detail: String,
    /// For validation problems: one message per offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
}

/// An error on its way to becoming a problem+json response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Option<BTreeMap<String, String>>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Self {
        Self {
            status,
            slug,
            title,
            detail: title.to_lowercase(),
            errors: None,
            retry_after_secs: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn field_errors(mut self, errors: BTreeMap<String, String>) -> Self {
        self.errors = Some(errors);
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request").detail(detail)
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail(detail)
    }

    pub fn validation(errors: BTreeMap<String, String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            "Validation failed",
        )
        .detail("the request has invalid fields")
        .field_errors(errors)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "Service unavailable",
        )
        .detail(detail)
    }

    /// The generic problem for a status that reached the client without one (an unknown
    /// route, a wrong method, a body over the limit…).
    pub fn for_status(status: StatusCode) -> Self {
        let (slug, title) = match status.as_u16() {
            400 => ("bad-request", "Bad request"),
            401 => ("unauthenticated", "Authentication required"),
            402 => ("insufficient-balance", "Insufficient balance"),
            403 => ("forbidden", "Forbidden"),
            404 => ("not-found", "Not found"),
            405 => ("method-not-allowed", "Method not allowed"),
            406 => ("not-acceptable", "Not acceptable"),
            408 => ("request-timeout", "Request timeout"),
            409 => ("conflict", "Conflict"),
            411 => ("length-required", "Length required"),
            413 => ("payload-too-large", "Payload too large"),
            414 => ("uri-too-long", "URI too long"),
            415 => ("unsupported-media-type", "Unsupported media type"),
            416 => ("range-not-satisfiable", "Range not satisfiable"),
            422 => ("validation-error", "Validation failed"),
            429 => ("rate-limited", "Too many requests"),
            503 => ("service-unavailable", "Service unavailable"),
            s if s >= 500 => ("internal-error", "Internal server error"),
            _ => ("client-error", "Client error"),
        };
        let detail = status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_lowercase();
        Self::new(status, slug, title).detail(detail)
    }

    /// The response, for handlers that must add headers to an error.
    pub fn error_response_owned(&self) -> HttpResponse<BoxBody> {
        ResponseError::error_response(self)
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("/problems/{}", self.slug),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.slug, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(self.status);
        response.content_type(PROBLEM_JSON);
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound(what) => {
                Self::new(StatusCode::NOT_FOUND, "not-found", "Not found")
                    .detail(format!("{what} not found"))
            }
            DomainError::Conflict { field, message } => {
                Self::new(StatusCode::CONFLICT, "conflict", "Conflict")
                    .detail(message.clone())
                    .field_errors(BTreeMap::from([(field.to_owned(), message)]))
            }
            DomainError::Stale(what) => Self::new(
                StatusCode::CONFLICT,
                "concurrent-modification",
                "Changed concurrently",
            )
            .detail(DomainError::Stale(what).to_string()),
            DomainError::Validation(errors) => Self::validation(
                errors
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            ),
            DomainError::Unauthenticated(detail) => Self::unauthenticated(detail),
            DomainError::Forbidden(detail) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden").detail(detail)
            }
            DomainError::PaymentRequired(detail) => Self::new(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient-balance",
                "Insufficient balance",
            )
            .detail(detail),
            DomainError::Unavailable(detail) => Self::unavailable(detail),
            DomainError::ExternalService(detail) => Self::new(
                StatusCode::BAD_GATEWAY,
                "external-service-error",
                "The company's service failed",
            )
            .detail(detail),
            DomainError::RateLimited { retry_after_secs } => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                )
                .detail(format!(
                    "too many failed attempts; retry in {retry_after_secs} seconds"
                ))
            },
            DomainError::QuestionLimitReached { max } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "question-limit-reached",
                "Question limit reached",
            )
            .detail(DomainError::QuestionLimitReached { max }.to_string()),
            DomainError::ProviderFailed(reason) => {
                // The provider's own words go to the log; the caller learns only that it failed.
                tracing::warn!(%reason, "a provider call of a request failed");
                Self::new(StatusCode::BAD_GATEWAY, "provider-error", "Provider error").detail(
                    "the language model failed or gave an unusable reply; nothing was stored \
                     and no question was used, try again",
                )
            }
            DomainError::ProviderBusy { retry_after_secs } => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "provider-busy",
                    "Provider busy",
                )
                .detail(format!(
                    "the language model is rate limiting requests; nothing was stored and no \
                     question was used, retry in {retry_after_secs} seconds"
                ))
            },
            DomainError::Internal(cause) => {
                // The one place a request's internal error is logged, with its whole chain.
                tracing::error!(error = %cause.chain(), "request failed with an internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal-error",
                    "Internal server error",
                )
                .detail(
                    "an unexpected error occurred; quote the x-request-id header when reporting it",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use dialix_kernel::FieldErrors;

    use super::*;

    #[test]
    fn domain_errors_map_to_one_status_each() {
        let cases = [
            (DomainError::NotFound("account"), 404),
            (DomainError::conflict("email", "taken"), 409),
            (FieldErrors::single("email", "bad"), 422),
            (DomainError::Unauthenticated("no".into()), 401),
            (DomainError::Forbidden("no".into()), 403),
            (
                DomainError::RateLimited {
                    retry_after_secs: 5,
                },
                429,
            ),
            (DomainError::QuestionLimitReached { max: 10 }, 429),
            (DomainError::ProviderFailed("HTTP 500".into()), 502),
            (
                DomainError::ProviderBusy {
                    retry_after_secs: 30,
                },
                503,
            ),
            (DomainError::internal("db down"), 500),
        ];
        for (error, status) in cases {
            assert_eq!(ApiError::from(error).status_code().as_u16(), status);
        }
    }

    #[test]
    fn a_busy_provider_says_when_to_retry_and_hides_its_reasons() {
        let busy = ApiError::from(DomainError::ProviderBusy {
            retry_after_secs: 30,
        })
        .error_response_owned();
        assert_eq!(busy.headers().get("retry-after").unwrap(), "30");
        let failed = ApiError::from(DomainError::ProviderFailed("key sk-123 refused".into()));
        assert!(!failed.problem().detail.contains("sk-123"));
    }

    #[test]
    fn internal_causes_are_not_shown_to_clients() {
        let problem = ApiError::from(DomainError::internal("password=hunter2")).problem();
        assert!(!problem.detail.contains("hunter2"));
    }
}
