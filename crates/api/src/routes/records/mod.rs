//! Records (calls): listing, reading, deleting, reprocessing, correcting; uploads, audio and
//! the event stream live in their own modules.

pub mod content;
mod crm;
mod event_stream;
mod playback;
mod uploads;

pub use crm::refresh_crm;
pub use event_stream::events;
pub use playback::audio;
pub use uploads::{estimate_upload, upload};

use actix_web::{HttpResponse, delete, get, patch, post, web};
use dialix_calls::{
    CallType, Record, RecordFilter, RecordOrder, RecordService, RecordStatus, SentimentValue,
    TranscriptQuery,
};
use dialix_kernel::{ChecklistId, PageRequest, RecordId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Meta, Problem, QueryValues};
use crate::state::AppState;

/// A record (one uploaded call).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecordResponse {
    id: Uuid,
    owner_id: Uuid,
    company_id: Uuid,
    operator_code: Option<String>,
    /// E.164, e.g. `+998901234567`.
    client_phone_number: Option<String>,
    call_type: Option<content::CallType>,
    /// When the call started, if the file name (OnlinePBX export) said so.
    #[serde(with = "crate::http::timestamp::option")]
    call_started_at: Option<OffsetDateTime>,
    /// Measured by decoding the audio.
    duration_ms: u64,
    status: content::RecordStatus,
    /// Whether the general analysis was asked for.
    general: bool,
    original_filename: String,
    content_type: String,
    size_bytes: u64,
    /// Why processing failed, when it did.
    error: Option<String>,
    /// Speaker turns, once transcribed.
    transcript: Option<Vec<content::TranscriptTurn>>,
    /// Timing metrics computed from the turns.
    metrics: Option<content::CallMetrics>,
    /// The general analysis, once done.
    analysis: Option<content::GeneralAnalysis>,
    /// The checklist and version the call is (to be) scored with.
    checklist_id: Option<Uuid>,
    checklist_version: Option<u32>,
    /// The checklist scoring, once done.
    checklist_result: Option<content::ChecklistResult>,
    /// The OnlinePBX call the record was imported from.
    pbx_call_id: Option<String>,
    /// The client in the company's CRM, once looked up (processing looks up calls with a
    /// client number when the company connected Bitrix24).
    crm: Option<content::CrmLookup>,
    /// Where to stream the audio from.
    audio_url: String,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
    /// In a listing searched with `transcript_contains`: where the words are in the call
    /// (absent elsewhere, and when they only meet across two turns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transcript_match: Option<content::TranscriptMatch>,
}

impl RecordResponse {
    fn listed(record: Record, search: Option<&TranscriptQuery>) -> Self {
        let hit = search.zip(record.payload.transcript.as_deref());
        let transcript_match = hit
            .and_then(|(query, turns)| query.find_in(turns))
            .map(Into::into);
        Self {
            transcript_match,
            ..record.into()
        }
    }
}

/// A page of records.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecordPageResponse {
    items: Vec<RecordResponse>,
    /// The matching records, counted exactly up to 10,000; past that this is 10,000 and
    /// `total_is_exact` is false.
    total: u64,
    /// False when more than 10,000 records match (`total` then means "10,000 or more").
    total_is_exact: bool,
    limit: u64,
    offset: u64,
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
            call_type: record.call_type.map(Into::into),
            call_started_at: record.call_started_at,
            duration_ms: record.duration_ms,
            status: record.status.into(),
            general: record.general,
            original_filename: record.original_filename,
            content_type: record.content_type.mime().to_owned(),
            size_bytes: record.size_bytes,
            error: record.error,
            transcript: record
                .payload
                .transcript
                .map(|turns| turns.into_iter().map(Into::into).collect()),
            metrics: record.payload.metrics.map(Into::into),
            analysis: record.payload.general.map(Into::into),
            checklist_id: record.checklist_id.map(|c| c.as_uuid()),
            checklist_version: record.checklist_version,
            checklist_result: record.payload.checklist.map(Into::into),
            pbx_call_id: record.pbx_call_id,
            crm: record.crm.map(Into::into),
            created_at: record.created_at,
            updated_at: record.updated_at,
            transcript_match: None,
        }
    }
}

/// Filters, sorting and paging of `GET /records`. Values arrive as text and are checked
/// together (one 422 naming every bad one); the document declares their real types.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordListQuery {
    #[param(value_type = Option<content::RecordStatus>)]
    status: Option<String>,
    #[param(max_length = 32)]
    operator_code: Option<String>,
    #[param(value_type = Option<content::CallType>)]
    call_type: Option<String>,
    /// The client's number: a whole number (`+998 90 123 45 67`, `998901234567` or the 9
    /// national digits) is matched exactly; fewer digits match anywhere in the number
    /// (`4567`, the last 7 digits).
    #[param(max_length = 32)]
    phone: Option<String>,
    /// The conversation sentiment.
    #[param(value_type = Option<content::SentimentValue>)]
    sentiment: Option<String>,
    /// Scored with this checklist.
    #[param(value_type = Option<Uuid>)]
    checklist_id: Option<String>,
    /// Words of the transcript, in this order, each matching a word that starts with it
    /// (case-insensitive; `to'lov` finds `to'lovni`). Up to 12 words. Results are ordered by
    /// relevance unless `sort` says otherwise, and each carries `transcript_match`.
    #[param(max_length = 200)]
    transcript_contains: Option<String>,
    /// Uploaded at or after (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    start_date: Option<String>,
    /// Uploaded at or before (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    end_date: Option<String>,
    /// `-created_at` (newest first; the default without a transcript search),
    /// `created_at`, or `relevance` (best transcript match first; the default with
    /// `transcript_contains`, and only with it).
    #[param(value_type = Option<RecordSort>, inline)]
    sort: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
}

impl RecordListQuery {
    /// Checks every value at once, so a caller sees all mistakes in one 422.
    fn parse(&self, records: &RecordService) -> Result<(RecordFilter, PageRequest), ApiError> {
        let mut values = QueryValues::default();
        let phone = non_blank(&self.phone).and_then(|raw| {
            records
                .phone_search(raw)
                .map_err(|message| values.errors.add("phone", message))
                .ok()
        });
        let transcript = non_blank(&self.transcript_contains).and_then(|raw| {
            TranscriptQuery::parse(raw)
                .map_err(|message| values.errors.add("transcript_contains", message))
                .ok()
        });
        let status = self.status.as_deref().and_then(|raw| {
            let status = RecordStatus::parse(raw.trim());
            if status.is_none() {
                values.errors.add(
                    "status",
                    "must be uploaded, queued, transcribing, analysing, done or failed",
                );
            }
            status
        });
        let call_type = self.call_type.as_deref().and_then(|raw| {
            let call_type = CallType::parse(raw.trim());
            if call_type.is_none() {
                values
                    .errors
                    .add("call_type", "must be inbound or outbound");
            }
            call_type
        });
        let sentiment = self.sentiment.as_deref().map(str::trim).and_then(|raw| {
            let parsed = SentimentValue::parse(raw);
            if parsed.is_none() {
                values
                    .errors
                    .add("sentiment", "must be positive, neutral or negative");
            }
            parsed
        });
        let created_from = values.date("start_date", self.start_date.as_deref());
        let created_to = values.date("end_date", self.end_date.as_deref());
        let checklist_id = values.uuid("checklist_id", self.checklist_id.as_deref());
        let order = match self.sort.as_deref().map(str::trim) {
            None if transcript.is_some() => RecordOrder::Relevance,
            None | Some("-created_at") => RecordOrder::NewestFirst,
            Some("created_at") => RecordOrder::OldestFirst,
            Some("relevance") if transcript.is_some() => RecordOrder::Relevance,
            Some("relevance") => {
                values
                    .errors
                    .add("sort", "relevance needs a transcript_contains search");
                RecordOrder::NewestFirst
            }
            Some(_) => {
                values
                    .errors
                    .add("sort", "must be created_at, -created_at or relevance");
                RecordOrder::NewestFirst
            }
        };
        let page = values.page(self.limit.as_deref(), self.offset.as_deref());
        values.finish()?;
        let filter = RecordFilter {
            status,
            operator_code: self.operator_code.clone().filter(|c| !c.trim().is_empty()),
            call_type,
            phone,
            sentiment,
            checklist_id: checklist_id.map(ChecklistId::from_uuid),
            transcript,
            created_from,
            created_to,
            order,
            ..Default::default()
        };
        Ok((filter, page))
    }
}

/// How `GET /records` is ordered.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum RecordSort {
    #[schema(rename = "-created_at")]
    NewestFirst,
    #[schema(rename = "created_at")]
    OldestFirst,
    #[schema(rename = "relevance")]
    Relevance,
}

fn non_blank(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().filter(|value| !value.trim().is_empty())
}

/// Records the caller may see: their own uploads, every record of the companies they
/// administer with `can_view_records`, everything for platform admins.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(RecordListQuery),
    responses(
        (status = 200, description = "Records", body = RecordPageResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters, sorting or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/records")]
pub async fn list_records(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<RecordListQuery>,
) -> Result<web::Json<RecordPageResponse>, ApiError> {
    let (filter, page) = query.parse(&state.records)?;
    let search = filter.transcript.clone();
    let listed = state.records.list(&caller.actor, filter, page).await?;
    Ok(web::Json(RecordPageResponse {
        items: listed
            .page
            .items
            .into_iter()
            .map(|record| RecordResponse::listed(record, search.as_ref()))
            .collect(),
        total: listed.page.total,
        total_is_exact: listed.total_is_exact,
        limit: listed.page.limit,
        offset: listed.page.offset,
    }))
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
    meta: Meta,
    caller: Authenticated,
    path: web::Path<RecordId>,
) -> Result<web::Json<RecordResponse>, ApiError> {
    let record = state
        .records
        .get(&caller.actor, path.into_inner(), &meta)
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
    meta: Meta,
    caller: Authenticated,
    path: web::Path<RecordId>,
) -> Result<HttpResponse, ApiError> {
    state
        .records
        .delete(&caller.actor, path.into_inner(), &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
    meta: Meta,
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
            &meta,
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
    meta: Meta,
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
            &meta,
        )
        .await?;
    Ok(web::Json(record.into()))
}
