//! The Server-Sent Events stream of record status changes.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use dialix_calls::ChangeFeed;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Problem};
use crate::state::AppState;

/// How often the event stream looks for changes, and how often it says it is alive.
const EVENTS_POLL: std::time::Duration = std::time::Duration::from_millis(500);
const EVENTS_KEEP_ALIVE: u32 = 30;

/// One status change, as the event stream sends it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecordEvent {
    id: Uuid,
    status: super::content::RecordStatus,
    error: Option<String>,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

/// Server-Sent Events of the caller's records' changes (`event: record`, `data` a
/// `RecordEvent`, `id` the change time in Unix milliseconds; send it back as `Last-Event-ID` to
/// resume). The stream reads the database, so changes made by workers in other processes
/// arrive too; a comment line keeps idle connections open.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An endless text/event-stream of RecordEvent", content_type = "text/event-stream", body = RecordEvent),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/records/events")]
pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok());
    struct Stream {
        state: web::Data<AppState>,
        feed: ChangeFeed,
        idle_polls: u32,
    }
    let feed = state.records.change_feed(caller.actor, resume);
    let start = Stream {
        state,
        feed,
        idle_polls: 0,
    };
    let stream = futures_util::stream::unfold(start, |mut stream| async move {
        loop {
            tokio::time::sleep(EVENTS_POLL).await;
            let changes = match stream.state.records.poll_changes(&mut stream.feed).await {
                Ok(changes) => changes,
                Err(error) => {
                    tracing::error!(error = %error.chain(), "record event stream stopped");
                    return None;
                }
            };
            let mut out = String::new();
            for change in changes {
                let millis = change.updated_at.unix_timestamp_nanos() / 1_000_000;
                let event = RecordEvent {
                    id: change.id.as_uuid(),
                    status: change.status.into(),
                    error: change.error,
                    updated_at: change.updated_at,
                };
                let data = serde_json::to_string(&event).unwrap_or_default();
                out.push_str(&format!("id: {millis}\nevent: record\ndata: {data}\n\n"));
            }
            if !out.is_empty() {
                stream.idle_polls = 0;
                return Some((Ok::<_, actix_web::Error>(Bytes::from(out)), stream));
            }
            stream.idle_polls += 1;
            if stream.idle_polls >= EVENTS_KEEP_ALIVE {
                stream.idle_polls = 0;
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), stream));
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream))
}
