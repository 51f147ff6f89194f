//! Uploads and estimates: multipart files in, records (or prices) out.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use dialix_calls::{CallPrice, Estimate, UploadFile};
use dialix_kernel::FieldErrors;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RecordResponse;
use crate::http::{ApiError, Authenticated, Meta, Problem};
use crate::state::AppState;

/// Form fields that describe the files, one value for all files or one per file.
const FILE_FIELDS: [&str; 5] = [
    "client_phone_number",
    "operator_code",
    "call_type",
    "checklist_id",
    "general",
];

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
                bytes: bytes.into(),
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
    meta: Meta,
    caller: Authenticated,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let files = read_upload(payload, state.max_upload_bytes).await?;
    let records = state.records.upload(&caller.actor, files, &meta).await?;
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
