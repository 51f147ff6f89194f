//! `GET /metrics` for Prometheus. Not public: it answers only a scraper holding
//! `METRICS_TOKEN`, and is off (404) when no token is configured. `METRICS_BIND_ADDR` serves
//! the same text on a port of its own (`crate::metrics_server`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use secrecy::ExposeSecret;

use crate::http::{ApiError, Problem};
use crate::state::AppState;

/// The server's metrics in the Prometheus text format: HTTP requests by route template,
/// method and status, their latency histogram, refused logins, the processing queue,
/// processing steps by outcome with their durations, and requests to each provider.
#[utoipa::path(
    tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Metrics (Prometheus text format 0.0.4)", body = String, content_type = "text/plain"),
        (status = 401, description = "No or wrong METRICS_TOKEN", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are off (no METRICS_TOKEN configured)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let expected = state.metrics_token.as_ref().ok_or_else(|| {
        ApiError::for_status(StatusCode::NOT_FOUND).detail("metrics are off: set METRICS_TOKEN")
    })?;
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !given.is_some_and(|token| same_bytes(token.trim(), expected.expose_secret())) {
        return Err(ApiError::unauthenticated(
            "send Authorization: Bearer <METRICS_TOKEN>",
        ));
    }
    exposition(&state).await
}

/// The metrics as a scrape's response, with the queue read now.
pub(crate) async fn exposition(state: &AppState) -> Result<HttpResponse, ApiError> {
    let queue = state.processing.queue_stats().await?;
    state.metrics.set_queue(&queue);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render()))
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn same_bytes(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}
