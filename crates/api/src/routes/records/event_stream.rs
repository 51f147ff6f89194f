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

/// How long a stream may go without sending anything before it says it is alive (proxies
/// close connections that stay silent).
const EVENTS_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

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
/// resume). Changes made by any process on the database (uploads, workers on other machines)
/// arrive: on PostgreSQL the database announces each commit that touches a record
/// (`LISTEN`/`NOTIFY`) and the stream reads the changes then, typically within a few
/// milliseconds; on SQLite the stream looks every half second. Each change arrives once,
/// also one that commits after a later-stamped one (so ids do not always increase). A
/// comment line every 15 s of silence keeps idle connections open.
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
    }
    let feed = state.records.change_feed(caller.actor, resume);
    let start = Stream { state, feed };
    let stream = futures_util::stream::unfold(start, |mut stream| async move {
        let records = &stream.state.records;
        let changes = match records
            .next_changes(&mut stream.feed, EVENTS_KEEP_ALIVE)
            .await
        {
            Ok(changes) => changes,
            Err(error) => {
                tracing::error!(error = %error.chain(), "record event stream stopped");
                return None;
            }
        };
        if changes.is_empty() {
            return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), stream));
        }
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
        Some((Ok::<_, actix_web::Error>(Bytes::from(out)), stream))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream))
}
