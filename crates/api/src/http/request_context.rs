use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};
use dialix_kernel::RequestMeta;
use tracing::Instrument;

use super::UNMATCHED_ROUTE;
use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request, kept in the request's extensions.
#[derive(Clone)]
struct RequestId(String);

/// Longest user agent kept in the activity log.
const USER_AGENT_MAX: usize = 512;

/// Where the request came from, for the activity log. The address is the TCP peer: forwarded
/// headers are not trusted, since any client can set them.
/// Where a request came from, for the activity log: taken as a handler argument.
pub struct Meta(RequestMeta);

impl std::ops::Deref for Meta {
    type Target = RequestMeta;

    fn deref(&self) -> &RequestMeta {
        &self.0
    }
}

impl actix_web::FromRequest for Meta {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(Meta(request_meta(req))))
    }
}

fn request_meta(req: &HttpRequest) -> RequestMeta {
    RequestMeta {
        request_id: req.extensions().get::<RequestId>().map(|id| id.0.clone()),
        ip_address: req.peer_addr().map(|addr| addr.ip().to_string()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(USER_AGENT_MAX).collect()),
    }
}

/// Gives every request an id (the caller's `x-request-id` when it is sane, a new UUID v7
/// otherwise), runs it inside a tracing span carrying that id, echoes the id in the response,
/// logs one structured line per request and counts it in the metrics.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_acceptable_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "http_request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;

    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let latency_ms = elapsed * 1000.0;
    let request = response.request();
    if let Some(state) = request.app_data::<actix_web::web::Data<AppState>>() {
        let route = request.match_pattern();
        state.metrics.observe(
            route.as_deref().unwrap_or(UNMATCHED_ROUTE),
            request.method().as_str(),
            status,
            elapsed,
        );
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// Incoming ids are echoed into logs and headers, so only short, plain tokens are kept.
fn is_acceptable_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::is_acceptable_id;

    #[test]
    fn only_plain_short_ids_are_trusted() {
        assert!(is_acceptable_id("abc-123_x.y:z"));
        assert!(!is_acceptable_id(""));
        assert!(!is_acceptable_id("has space"));
        assert!(!is_acceptable_id("line\nbreak"));
        assert!(!is_acceptable_id(&"a".repeat(129)));
    }
}
