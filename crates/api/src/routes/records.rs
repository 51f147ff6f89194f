use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use dialix_calls::{
    AudioHandle, CallPrice, CallType, ChangeFeed, Estimate, Record, RecordFilter, RecordStatus,
    SentimentValue, UploadFile,
};
use dialix_kernel::{ChecklistId, FieldErrors, RecordId};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pages::PageOf;
use crate::http::{ApiError, Authenticated, Problem, QueryValues, request_meta};
use crate::state::AppState;

/// Audio is sent to clients in pieces of this size.
const AUDIO_CHUNK: u64 = 256 * 1024;
/// Form fields that describe the files, one value for all files or one per file.
const FILE_FIELDS: [&str; 5] = [
    "client_phone_number",
    "operator_code",
    "call_type",
    "checklist_id",
    "general",
];

/// A record (one uploaded call).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecordResponse {
    id: Uuid,
    owner_id: Uuid,
    company_id: Uuid,
    operator_code: Option<String>,
    /// E.164, e.g. `+998901234567`.
    client_phone_number: Option<String>,
    /// `inbound` or `outbound`.
    call_type: Option<String>,
    /// When the call started, if the file name (OnlinePBX export) said so.
    #[serde(with = "crate::http::timestamp::option")]
    call_started_at: Option<OffsetDateTime>,
    /// Measured by decoding the audio.
    duration_ms: u64,
    /// `uploaded`, `queued`, `transcribing`, `analysing`, `done` or `failed`.
    status: String,
    /// Whether the general analysis was asked for.
    general: bool,
    original_filename: String,
    content_type: String,
    size_bytes: u64,
    /// Why processing failed, when it did.
    error: Option<String>,
    /// Speaker turns `{speaker, role (operator|customer), start_ms, end_ms, text}`, once
    /// transcribed.
    #[schema(value_type = Option<Vec<Object>>)]
    transcript: Option<serde_json::Value>,
    /// Timing metrics computed from the turns.
    #[schema(value_type = Option<Object>)]
    metrics: Option<serde_json::Value>,
    /// The general analysis (sentiments with reasons, summary, purpose, flags, key words).
    #[schema(value_type = Option<Object>)]
    analysis: Option<serde_json::Value>,
    /// The checklist and version the call is (to be) scored with.
    checklist_id: Option<Uuid>,
    checklist_version: Option<u32>,
    /// Per-item verdicts `{item_id, passed, evidence, at_ms}`, `score` (0–100) and
    /// `compliant` (false when a critical item failed).
    #[schema(value_type = Option<Object>)]
    checklist_result: Option<serde_json::Value>,
    /// Where to stream the audio from.
    audio_url: String,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<Record> for RecordResponse {
    fn from(record: Record) -> Self {
        Self {
            audio_url: format!("/records/{}/audio", record.id),
            id: record.id.as_uuid(),
            owner_id: record.owner_id.as_uuid(),
            company_id: record.company_id.as_uuid(),
            operator_code: record.operator_code,
            client_phone_number: record.client_phone_number,
            call_type: record.call_type.map(|c| c.as_str().to_owned()),
            call_started_at: record.call_started_at,
            duration_ms: record.duration_ms,
            status: record.status.as_str().to_owned(),
            general: record.general,
            original_filename: record.original_filename,
            content_type: record.content_type.mime().to_owned(),
            size_bytes: record.size_bytes,
            error: record.error,
            transcript: record
                .payload
                .transcript
                .and_then(|t| serde_json::to_value(t).ok()),
            metrics: record
                .payload
                .metrics
                .and_then(|m| serde_json::to_value(m).ok()),
            analysis: record
                .payload
                .general
                .and_then(|g| serde_json::to_value(g).ok()),
            checklist_id: record.checklist_id.map(|c| c.as_uuid()),
            checklist_version: record.checklist_version,
            checklist_result: record
                .payload
                .checklist
                .and_then(|c| serde_json::to_value(c).ok()),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// The multipart form of an upload (documentation only: the body is read as a stream).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// One or more audio files (WAV, MP3, OGG/Vorbis, Ogg/Opus, FLAC, M4A/AAC), as parts
    /// named `file`.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
    /// Client's number in any common form; normalised to E.164. One value for all files, or
    /// one per file in file order. Taken from an OnlinePBX file name when absent.
    client_phone_number: Option<String>,
    /// The operator's extension; from the OnlinePBX file name when absent.
    operator_code: Option<String>,
    /// `inbound` or `outbound`; from the OnlinePBX file name when absent.
    call_type: Option<String>,
    /// Score with this checklist (of the uploader's company); by default the operator's
    /// assigned one, if any.
    checklist_id: Option<String>,
    /// Run the general analysis (default `true`).
    general: Option<bool>,
}

/// Reads the multipart body: files in order, and per-file fields.
async fn read_upload(
    mut payload: Multipart,
    max_bytes: usize,
) -> Result<Vec<UploadFile>, ApiError> {
    let mut files: Vec<UploadFile> = Vec::new();
    let mut fields: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut total = 0usize;
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(multipart_error)?;
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            total += chunk.len();
            if total > max_bytes {
                return Err(
                    ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE).detail(format!(
                        "the upload is larger than the {} MB limit",
                        max_bytes / (1024 * 1024)
                    )),
                );
            }
            bytes.extend_from_slice(&chunk);
        }
        match (name.as_str(), file_name) {
            ("file" | "files", Some(file_name)) => files.push(UploadFile {
                file_name,
                bytes,
                ..Default::default()
            }),
            (other, None) if FILE_FIELDS.contains(&other) => {
                let key = FILE_FIELDS
                    .into_iter()
                    .find(|f| *f == other)
                    .unwrap_or_default();
                let value = String::from_utf8(bytes).map_err(|_| {
                    ApiError::validation(BTreeMap::from([(
                        other.to_owned(),
                        "must be UTF-8 text".to_owned(),
                    )]))
                })?;
                fields.entry(key).or_default().push(value);
            }
            (other, _) => {
                return Err(ApiError::validation(BTreeMap::from([(
                    other.to_owned(),
                    "is not a known form field; send files as `file` parts".to_owned(),
                )])));
            }
        }
    }
    let mut errors = FieldErrors::new();
    for (field, values) in &fields {
        if values.len() != 1 && values.len() != files.len() {
            errors.add(field, "give one value for all files or one per file");
            continue;
        }
        for (index, file) in files.iter_mut().enumerate() {
            let value = values.get(index).or_else(|| values.first()).cloned();
            match *field {
                "client_phone_number" => file.client_phone_number = value,
                "operator_code" => file.operator_code = value,
                "call_type" => file.call_type = value,
                "checklist_id" => file.checklist_id = value,
                _ => match value.as_deref().map(str::trim) {
                    Some("true") | None => file.general = Some(true),
                    Some("false") => file.general = Some(false),
                    Some(_) => {
                        errors.add(&format!("general[{index}]"), "must be true or false");
                    }
                },
            }
        }
    }
    errors.into_result()?;
    Ok(files)
}

fn multipart_error(error: actix_multipart::MultipartError) -> ApiError {
    match error {
        actix_multipart::MultipartError::ContentTypeMissing
        | actix_multipart::MultipartError::ContentTypeParse
        | actix_multipart::MultipartError::ContentTypeIncompatible => {
            ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                .detail("send the files as multipart/form-data")
        }
        other => ApiError::bad_request(format!("the multipart body is malformed: {other}")),
    }
}

/// Upload calls. Every file is decoded to measure it; if one cannot be decoded the request
/// fails with 422 naming it, and nothing of the request is kept. When the providers are
/// configured each record is `queued` and its estimated price reserved on the company balance
/// (402 when it does not cover it, and nothing is kept); otherwise records stay `uploaded`.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Vec<RecordResponse>),
        (status = 400, description = "Malformed multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account belongs to no company", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over DIALIX_MAX_UPLOAD_MB", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "The balance does not cover processing", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An undecodable or empty file, or invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/records")]
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let files = read_upload(payload, state.max_upload_bytes).await?;
    let records = state
        .records
        .upload(&caller.actor, files, &request_meta(&req))
        .await?;
    let body: Vec<RecordResponse> = records.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Created().json(body))
}

/// The price of one step set, in minor units.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PriceResponse {
    stt: i64,
    general: i64,
    checklist: i64,
    total: i64,
}

impl From<CallPrice> for PriceResponse {
    fn from(price: CallPrice) -> Self {
        Self {
            stt: price.stt,
            general: price.general,
            checklist: price.checklist,
            total: price.total(),
        }
    }
}

/// One file of an estimate.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EstimatedFileResponse {
    file_name: String,
    duration_ms: u64,
    price: PriceResponse,
}

/// What an upload would cost.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EstimateResponse {
    files: Vec<EstimatedFileResponse>,
    /// Minor units.
    total: i64,
    /// What the company can spend now, minor units.
    available: i64,
    enough: bool,
}

impl From<Estimate> for EstimateResponse {
    fn from(priced: Estimate) -> Self {
        Self {
            files: priced
                .files
                .into_iter()
                .map(|f| EstimatedFileResponse {
                    file_name: f.file_name,
                    duration_ms: f.duration_ms,
                    price: f.price.into(),
                })
                .collect(),
            total: priced.total,
            available: priced.available,
            enough: priced.enough,
        }
    }
}

/// Price an upload without storing anything: the same form as `POST /records`.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The estimate", body = EstimateResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account belongs to no company", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over DIALIX_MAX_UPLOAD_MB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An undecodable or empty file, or invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/records/estimate")]
pub async fn estimate_upload(
    state: web::Data<AppState>,
    caller: Authenticated,
    payload: Multipart,
) -> Result<web::Json<EstimateResponse>, ApiError> {
    let files = read_upload(payload, state.max_upload_bytes).await?;
    let priced = state.records.estimate(&caller.actor, files).await?;
    Ok(web::Json(priced.into()))
}

/// Filters, sorting and paging of `GET /records`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordListQuery {
    /// `uploaded`, `queued`, `transcribing`, `analysing`, `done` or `failed`.
    status: Option<String>,
    operator_code: Option<String>,
    /// `inbound` or `outbound`.
    call_type: Option<String>,
    /// Part of the client's number.
    phone: Option<String>,
    /// The conversation sentiment: `positive`, `neutral` or `negative`.
    sentiment: Option<String>,
    /// Scored with this checklist.
    checklist_id: Option<String>,
    /// Words anywhere in the transcript (case-insensitive).
    transcript_contains: Option<String>,
    /// Uploaded at or after (RFC 3339).
    start_date: Option<String>,
    /// Uploaded at or before (RFC 3339).
    end_date: Option<String>,
    /// `-created_at` (default, newest first) or `created_at`.
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<String>,
    /// Items to skip (default 0).
    offset: Option<String>,
}

/// Records the caller may see: their own uploads, every record of the companies they
/// administer with `can_view_records`, everything for platform admins.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(RecordListQuery),
    responses(
        (status = 200, description = "Records", body = PageOf<RecordResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters, sorting or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/records")]
pub async fn list_records(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<RecordListQuery>,
) -> Result<web::Json<PageOf<RecordResponse>>, ApiError> {
    let mut values = QueryValues::default();
    let status = query.status.as_deref().and_then(|raw| {
        let status = RecordStatus::parse(raw.trim());
        if status.is_none() {
            values.errors.add(
                "status",
                "must be uploaded, queued, transcribing, analysing, done or failed",
            );
        }
        status
    });
    let call_type = query.call_type.as_deref().and_then(|raw| {
        let call_type = CallType::parse(raw.trim());
        if call_type.is_none() {
            values
                .errors
                .add("call_type", "must be inbound or outbound");
        }
        call_type
    });
    let sentiment = query.sentiment.as_deref().map(str::trim).and_then(|raw| {
        let parsed = SentimentValue::parse(raw);
        if parsed.is_none() {
            values
                .errors
                .add("sentiment", "must be positive, neutral or negative");
        }
        parsed
    });
    let mut date = |field: &str, raw: &Option<String>| {
        raw.as_deref().and_then(|raw| {
            let parsed = OffsetDateTime::parse(raw.trim(), &Rfc3339).ok();
            if parsed.is_none() {
                values.errors.add(field, "must be an RFC 3339 date-time");
            }
            parsed
        })
    };
    let created_from = date("start_date", &query.start_date);
    let created_to = date("end_date", &query.end_date);
    let checklist_id = values.uuid("checklist_id", query.checklist_id.as_deref());
    let ascending = match query.sort.as_deref().map(str::trim) {
        None | Some("-created_at") => false,
        Some("created_at") => true,
        Some(_) => {
            values
                .errors
                .add("sort", "must be created_at or -created_at");
            false
        }
    };
    let page = values.page(query.limit.as_deref(), query.offset.as_deref());
    values.finish()?;
    let filter = RecordFilter {
        status,
        operator_code: query.operator_code.clone().filter(|c| !c.trim().is_empty()),
        call_type,
        phone_contains: query.phone.clone().filter(|p| !p.trim().is_empty()),
        sentiment,
        checklist_id: checklist_id.map(ChecklistId::from_uuid),
        transcript_contains: query
            .transcript_contains
            .clone()
            .filter(|t| !t.trim().is_empty()),
        created_from,
        created_to,
        ascending,
        ..Default::default()
    };
    let page = state.records.list(&caller.actor, filter, page).await?;
    Ok(web::Json(PageOf::from_page(page, RecordResponse::from)))
}

/// One record. The read is audited (`VIEW`): a record holds a conversation.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The record")),
    responses(
        (status = 200, description = "The record", body = RecordResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/records/{id}")]
pub async fn get_record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    path: web::Path<RecordId>,
) -> Result<web::Json<RecordResponse>, ApiError> {
    let record = state
        .records
        .get(&caller.actor, path.into_inner(), &request_meta(&req))
        .await?;
    Ok(web::Json(record.into()))
}

/// Soft-delete a record: it stays listed nowhere, its audio is removed, its history is kept.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The record")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/records/{id}")]
pub async fn delete_record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    path: web::Path<RecordId>,
) -> Result<HttpResponse, ApiError> {
    state
        .records
        .delete(&caller.actor, path.into_inner(), &request_meta(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stream a record's audio, with `Range` support (`bytes=start-end`, `bytes=start-`,
/// `bytes=-suffix`) for seeking in players.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The record"),
        ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`"),
    ),
    responses(
        (status = 200, description = "The whole file", content_type = "audio/*"),
        (status = 206, description = "The requested range", content_type = "audio/*"),
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
                Ok(bytes) if !bytes.is_empty() => Some((Ok(Bytes::from(bytes)), until)),
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

/// The caller's company balance.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BalanceResponse {
    company_id: Uuid,
    /// Minor units.
    balance: i64,
    /// Held for calls being processed.
    reserved: i64,
    /// `balance - reserved`: what new uploads can use.
    available: i64,
}

/// The caller's company balance, what calls in progress hold, and what is available.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The balance", body = BalanceResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The account belongs to no company", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/balance")]
pub async fn balance(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<BalanceResponse>, ApiError> {
    let (company, view) = state.records.balance(&caller.actor).await?;
    Ok(web::Json(BalanceResponse {
        company_id: company.as_uuid(),
        balance: view.balance,
        reserved: view.reserved,
        available: view.available(),
    }))
}

/// What to run again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReprocessRequest {
    /// Run the general analysis (default: as before).
    general: Option<bool>,
    /// Score with this checklist (of the record's company) from now on.
    checklist_id: Option<Uuid>,
}

/// Process a record again (after a failure, or to switch the general analysis on or off).
/// Its price is reserved anew (402 if the balance does not cover it) and charged again as
/// each step finishes. 503 names the missing setting when a needed provider is not
/// configured.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The record")),
    request_body = ReprocessRequest,
    responses(
        (status = 202, description = "Queued", body = RecordResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "The balance does not cover processing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still being processed, or the audio was removed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A provider is not configured", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/records/{id}/reprocess")]
pub async fn reprocess(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    path: web::Path<RecordId>,
    body: web::Json<ReprocessRequest>,
) -> Result<HttpResponse, ApiError> {
    let record = state
        .records
        .reprocess(
            &caller.actor,
            path.into_inner(),
            body.general,
            body.checklist_id.map(ChecklistId::from_uuid),
            &request_meta(&req),
        )
        .await?;
    Ok(HttpResponse::Accepted().json(RecordResponse::from(record)))
}

/// Corrections to a record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRecordRequest {
    /// The transcript's speaker label that is the operator (`"0"`, `"1"`, …); roles and
    /// metrics are recomputed.
    operator_speaker: String,
}

/// Correct which speaker is the operator; the change is audited.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The record")),
    request_body = UpdateRecordRequest,
    responses(
        (status = 200, description = "The corrected record", body = RecordResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No transcript yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a speaker of the transcript", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/records/{id}")]
pub async fn update_record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    path: web::Path<RecordId>,
    body: web::Json<UpdateRecordRequest>,
) -> Result<web::Json<RecordResponse>, ApiError> {
    let record = state
        .records
        .set_operator_speaker(
            &caller.actor,
            path.into_inner(),
            body.operator_speaker.trim(),
            &request_meta(&req),
        )
        .await?;
    Ok(web::Json(record.into()))
}

/// How often the event stream looks for changes, and how often it says it is alive.
const EVENTS_POLL: std::time::Duration = std::time::Duration::from_millis(500);
const EVENTS_KEEP_ALIVE: u32 = 30;

/// One status change, as the event stream sends it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecordEvent {
    id: Uuid,
    status: String,
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
                    status: change.status.as_str().to_owned(),
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
