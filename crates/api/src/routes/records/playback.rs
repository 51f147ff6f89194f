//! Audio playback: streamed with `Range` support, or (`AUDIO_PLAYBACK=redirect`) a 307 to a
//! presigned URL of the bucket, so the bytes never pass through the API.

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use dialix_calls::AudioHandle;
use dialix_kernel::RecordId;

use crate::config::AudioPlayback;
use crate::http::{ApiError, Authenticated, Problem};

/// The audio file's bytes (documentation only: the body is streamed), so generated clients
/// offer a download.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct AudioFile(Vec<u8>);
use crate::state::AppState;

/// Audio is sent to clients in pieces of this size.
const AUDIO_CHUNK: u64 = 256 * 1024;
/// Stream a record's audio, with `Range` support (`bytes=start-end`, `bytes=start-`,
/// `bytes=-suffix`) for seeking in players. Servers configured with
/// `AUDIO_PLAYBACK=redirect` answer 307 instead, to a URL of the storage bucket that is valid
/// for `AUDIO_PRESIGN_TTL_SECS`: players follow it (sending their `Range` there) without
/// credentials.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The record"),
        ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`"),
    ),
    responses(
        (status = 200, description = "The whole file",
            content((AudioFile = "audio/wav"), (AudioFile = "audio/mpeg"), (AudioFile = "audio/ogg"),
                (AudioFile = "audio/flac"), (AudioFile = "audio/mp4"))),
        (status = 206, description = "The requested range",
            content((AudioFile = "audio/wav"), (AudioFile = "audio/mpeg"), (AudioFile = "audio/ogg"),
                (AudioFile = "audio/flac"), (AudioFile = "audio/mp4"))),
        (status = 307, description = "`AUDIO_PLAYBACK=redirect`: the file is at the `Location` URL, \
            presigned for a limited time (needs no credentials; supports `Range`)",
            headers(("Location" = String, description = "The presigned URL of the audio file"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record or audio, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range lies outside the file", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/records/{id}/audio")]
pub async fn audio(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    path: web::Path<RecordId>,
) -> Result<HttpResponse, ApiError> {
    let handle = state
        .records
        .audio(&caller.actor, path.into_inner())
        .await?;
    if let AudioPlayback::Redirect { ttl } = state.audio_playback
        && let Some(url) = state.records.audio_url(&handle, ttl).await?
    {
        // Not cached: the URL dies with its signature.
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .finish());
    }
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, handle.size));
    let (status, start, end) = match range {
        None | Some(RangeRequest::Ignored) => (StatusCode::OK, 0, handle.size),
        Some(RangeRequest::Bytes(start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
        Some(RangeRequest::Unsatisfiable) => {
            let mut response = ApiError::for_status(StatusCode::RANGE_NOT_SATISFIABLE)
                .detail(format!("the file has {} bytes", handle.size))
                .error_response_owned();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{}", handle.size))
                    .map_err(|_| ApiError::bad_request("bad range"))?,
            );
            return Ok(response);
        }
    };
    let mut response = HttpResponse::build(status);
    response
        .content_type(handle.format.mime())
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .no_chunking(end - start);
    if status == StatusCode::PARTIAL_CONTENT {
        response.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{}", end - 1, handle.size),
        ));
    }
    Ok(response.streaming(audio_stream(state, handle, start, end)))
}

/// Reads `start..end` of the audio piece by piece.
fn audio_stream(
    state: web::Data<AppState>,
    handle: AudioHandle,
    start: u64,
    end: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    futures_util::stream::unfold(start, move |position| {
        let (state, handle) = (state.clone(), handle.clone());
        async move {
            if position >= end {
                return None;
            }
            let until = (position + AUDIO_CHUNK).min(end);
            match state.records.read_audio(&handle, position, until).await {
                Ok(bytes) if !bytes.is_empty() => Some((Ok(bytes), until)),
                Ok(_) => None,
                Err(error) => Some((Err(ApiError::from(error).into()), end)),
            }
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// `start..end`, end exclusive.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range: the whole file is sent.
    Ignored,
}

fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Ignored;
    };
    if spec.contains(',') {
        return RangeRequest::Ignored;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    let range = match (first.is_empty(), last.is_empty()) {
        (true, false) => parse(last).map(|n| (size.saturating_sub(n), size)),
        (false, true) => parse(first).map(|start| (start, size)),
        (false, false) => match (parse(first), parse(last)) {
            // `last` may be as large as u64 allows: clamp before adding one.
            (Some(start), Some(last)) if last >= start => {
                Some((start, last.min(size.saturating_sub(1)) + 1))
            }
            _ => None,
        },
        (true, true) => None,
    };
    match range {
        Some((start, end)) if start < end && start < size => RangeRequest::Bytes(start, end),
        Some(_) => RangeRequest::Unsatisfiable,
        None => RangeRequest::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::{RangeRequest, parse_range};

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-99", 1000), RangeRequest::Bytes(0, 100));
        assert_eq!(
            parse_range("bytes=900-", 1000),
            RangeRequest::Bytes(900, 1000)
        );
        assert_eq!(
            parse_range("bytes=-100", 1000),
            RangeRequest::Bytes(900, 1000)
        );
        assert_eq!(
            parse_range("bytes=990-2000", 1000),
            RangeRequest::Bytes(990, 1000)
        );
        assert_eq!(
            parse_range("bytes=1000-", 1000),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range("bytes=5-1", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("bytes=0-1,5-9", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("items=0-1", 1000), RangeRequest::Ignored);
        assert_eq!(
            parse_range("bytes=0-18446744073709551615", 1000),
            RangeRequest::Bytes(0, 1000)
        );
        assert_eq!(
            parse_range("bytes=18446744073709551615-18446744073709551615", 1000),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range("bytes=0-5", 0), RangeRequest::Unsatisfiable);
    }
}
