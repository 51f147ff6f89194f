//! The company's OnlinePBX: its calls with their import state, estimating and importing
//! them into the calls pipeline, and operators from its users.

use actix_web::{HttpResponse, get, post, web};
use dialix_integrations::{
    CallDirection, CallFilter, CallSelection, DEFAULT_MIN_TALK_SECONDS, DateRange, ImportOutcome,
    ImportRequest, ListedCall, OperatorSync,
};
use dialix_kernel::{ChecklistId, CompanyId, PageRequest};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::catalog::OperatorResponse;
use super::figures::FigurePeriod;
use crate::http::{ApiError, Authenticated, Meta, Problem, QueryValues};
use crate::state::AppState;

/// Who called whom, as the PBX says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PbxCallDirection {
    Inbound,
    Outbound,
    /// Between two extensions.
    Internal,
}

/// One call of the PBX's history.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PbxCallResponse {
    /// The PBX's call id (`uuid`).
    id: String,
    #[serde(with = "crate::http::timestamp")]
    started_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    ended_at: OffsetDateTime,
    /// From ringing to hang-up.
    duration_seconds: u32,
    /// The conversation itself.
    talk_seconds: u32,
    direction: PbxCallDirection,
    /// The operator's extension.
    operator_extension: String,
    /// The client's number as the PBX wrote it; none for internal calls.
    client_number: Option<String>,
    /// The caller's name as the PBX knows it.
    caller_name: Option<String>,
    /// The record it was imported as; null when not imported yet.
    record_id: Option<Uuid>,
}

impl From<ListedCall> for PbxCallResponse {
    fn from(listed: ListedCall) -> Self {
        let call = listed.call;
        Self {
            operator_extension: call.operator_extension().to_owned(),
            client_number: call.client_number().map(str::to_owned),
            direction: match call.direction {
                CallDirection::Inbound => PbxCallDirection::Inbound,
                CallDirection::Outbound => PbxCallDirection::Outbound,
                CallDirection::Internal => PbxCallDirection::Internal,
            },
            id: call.id,
            started_at: call.started_at,
            ended_at: call.ended_at,
            duration_seconds: call.duration_seconds,
            talk_seconds: call.talk_seconds,
            caller_name: call.caller_name,
            record_id: listed.record_id.map(|r| r.as_uuid()),
        }
    }
}

/// A page of the PBX's calls, newest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PbxCallPage {
    items: Vec<PbxCallResponse>,
    /// Every call of the period that passes the filters.
    total: u64,
    limit: u64,
    offset: u64,
    period: FigurePeriod,
}

/// `GET /pbx/calls`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PbxCallsQuery {
    /// First local day (the caller's time zone setting); default today.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Last local day, included; default today. At most 31 days in all.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Default: the caller's company.
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
    /// Only calls imported (`true`) or not yet imported (`false`).
    #[param(value_type = Option<bool>)]
    imported: Option<String>,
    /// Only calls of this direction.
    #[param(value_type = Option<PbxCallDirection>)]
    direction: Option<String>,
    /// Only calls with at least this much talk time, in seconds.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 3600)]
    min_talk_seconds: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0)]
    offset: Option<String>,
}

impl PbxCallsQuery {
    fn parse(&self) -> Result<(Option<CompanyId>, DateRange, CallFilter, PageRequest), ApiError> {
        let mut values = QueryValues::default();
        let dates = DateRange {
            start_date: values.calendar_date("start_date", self.start_date.as_deref()),
            end_date: values.calendar_date("end_date", self.end_date.as_deref()),
        };
        let company = values
            .uuid("company_id", self.company_id.as_deref())
            .map(CompanyId::from_uuid);
        let filter = CallFilter {
            imported: values.boolean("imported", self.imported.as_deref()),
            direction: values.choice(
                "direction",
                self.direction.as_deref(),
                |name| match name {
                    "inbound" => Some(CallDirection::Inbound),
                    "outbound" => Some(CallDirection::Outbound),
                    "internal" => Some(CallDirection::Internal),
                    _ => None,
                },
                &["inbound", "outbound", "internal"],
            ),
            min_talk_seconds: values.number(
                "min_talk_seconds",
                self.min_talk_seconds.as_deref(),
                dialix_integrations::MIN_TALK_SECONDS,
            ),
        };
        let page = values.page(self.limit.as_deref(), self.offset.as_deref());
        values.finish()?;
        Ok((company, dates, filter, page))
    }
}

/// The PBX's calls of the period with talk time, operator, number, direction and whether
/// each is imported (filter by `imported`, `direction`, `min_talk_seconds`): platform admins,
/// or administrators with `can_manage_integrations`.
#[utoipa::path(
    tag = "pbx",
    security(("bearer" = [])),
    params(PbxCallsQuery),
    responses(
        (status = 200, description = "Calls, newest first", body = PbxCallPage),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company has not connected its OnlinePBX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period or paging", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The PBX refused or failed the request (its answer is in the message)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/pbx/calls")]
pub async fn list_calls(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PbxCallsQuery>,
) -> Result<web::Json<PbxCallPage>, ApiError> {
    let (company, dates, filter, page) = query.parse()?;
    let (period, page) = state
        .imports
        .calls(&caller.actor, company, dates, filter, page)
        .await?;
    Ok(web::Json(PbxCallPage {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
        period: (&period).into(),
    }))
}

/// `POST /pbx/estimate` and `POST /pbx/import`: either `call_ids` or a period.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// These PBX calls; or give `start_date`/`end_date` instead.
    #[schema(min_items = 1, max_items = 1000)]
    call_ids: Option<Vec<String>>,
    /// Every call from this local day (the caller's time zone setting)…
    #[schema(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// …to this one, included; at most 31 days.
    #[schema(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// The general analysis (default true).
    general: Option<bool>,
    /// Score every call with this checklist of the company (default: each operator's own).
    checklist_id: Option<Uuid>,
    /// Skip calls with less talk time (default 10).
    #[schema(minimum = 0, maximum = 3600)]
    min_talk_seconds: Option<u32>,
    /// Default: the caller's company.
    company_id: Option<Uuid>,
}

impl ImportBody {
    fn parse(self) -> Result<ImportRequest, ApiError> {
        let mut values = QueryValues::default();
        let dates = DateRange {
            start_date: values.calendar_date("start_date", self.start_date.as_deref()),
            end_date: values.calendar_date("end_date", self.end_date.as_deref()),
        };
        let by_period = self.start_date.is_some() || self.end_date.is_some();
        let selection = match (self.call_ids, by_period) {
            (Some(ids), false) => Some(CallSelection::Ids(ids)),
            (None, true) if self.start_date.is_some() && self.end_date.is_some() => {
                Some(CallSelection::Period(dates))
            }
            (None, true) => {
                values.errors.add(
                    "end_date",
                    "give both start_date and end_date to import a period",
                );
                None
            }
            (Some(_), true) => {
                values.errors.add(
                    "call_ids",
                    "give either call_ids or start_date and end_date, not both",
                );
                None
            }
            (None, false) => {
                values
                    .errors
                    .add("call_ids", "give call_ids, or start_date and end_date");
                None
            }
        };
        let min_talk_seconds = self.min_talk_seconds.unwrap_or(DEFAULT_MIN_TALK_SECONDS);
        values.errors.check(
            dialix_integrations::MIN_TALK_SECONDS.contains(&min_talk_seconds),
            "min_talk_seconds",
            "must be 0 to 3600 seconds",
        );
        values.finish()?;
        Ok(ImportRequest {
            company_id: self.company_id.map(CompanyId::from_uuid),
            selection: selection.unwrap_or(CallSelection::Ids(Vec::new())),
            general: self.general.unwrap_or(true),
            checklist_id: self.checklist_id.map(ChecklistId::from_uuid),
            min_talk_seconds,
        })
    }
}

/// One call an import creates a record for.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ImportedCall {
    pbx_call_id: String,
    /// The record's id; null in an estimate, which creates none.
    record_id: Option<Uuid>,
    /// The PBX's duration, which the price is reserved for; the record is measured again
    /// when its audio arrives.
    duration_ms: u64,
    /// Reserved on the company balance, in minor units.
    price: i64,
    operator_code: Option<String>,
    client_phone_number: Option<String>,
    checklist_id: Option<Uuid>,
}

/// What an import would do or did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ImportResponse {
    company_id: Uuid,
    /// The calls to import (estimate) or imported and queued (import).
    calls: Vec<ImportedCall>,
    /// Calls imported before; left alone.
    already_imported: u32,
    /// Calls with less talk time than `min_talk_seconds`.
    skipped_short: u32,
    /// Asked-for ids the PBX does not know.
    not_found: Vec<String>,
    /// The price of `calls`, in minor units.
    total_price: i64,
    /// The balance available before the import.
    available: i64,
    /// Whether the balance covers `total_price`.
    enough: bool,
}

impl ImportResponse {
    /// `stored`: whether the outcome's records exist (an import) or not (an estimate).
    fn new(o: ImportOutcome, stored: bool) -> Self {
        Self {
            company_id: o.company_id.as_uuid(),
            calls: o
                .calls
                .into_iter()
                .map(|c| ImportedCall {
                    pbx_call_id: c.record.pbx_call_id.unwrap_or_default(),
                    record_id: stored.then(|| c.record.id.as_uuid()),
                    duration_ms: c.record.duration_ms,
                    price: c.price,
                    operator_code: c.record.operator_code,
                    client_phone_number: c.record.client_phone_number,
                    checklist_id: c.record.checklist_id.map(|id| id.as_uuid()),
                })
                .collect(),
            already_imported: o.already_imported,
            skipped_short: o.skipped_short,
            not_found: o.not_found,
            total_price: o.total,
            available: o.available,
            enough: o.available >= o.total,
        }
    }
}

/// What importing would create and cost; nothing is stored.
#[utoipa::path(
    tag = "pbx",
    security(("bearer" = [])),
    request_body = ImportBody,
    responses(
        (status = 200, description = "The estimate", body = ImportResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company has not connected its OnlinePBX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid selection, dates or checklist", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The PBX refused or failed the request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pbx/estimate")]
pub async fn estimate(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<ImportBody>,
) -> Result<web::Json<ImportResponse>, ApiError> {
    let request = body.into_inner().parse()?;
    let outcome = state.imports.estimate(&caller.actor, &request).await?;
    Ok(web::Json(ImportResponse::new(outcome, false)))
}

/// Import calls: a record per new call (a call is imported once, however often asked), its
/// price reserved (402 when the balance does not cover them all, and nothing is imported),
/// its audio downloaded and processed by the workers like an upload's.
#[utoipa::path(
    tag = "pbx",
    security(("bearer" = [])),
    request_body = ImportBody,
    responses(
        (status = 202, description = "Imported and queued", body = ImportResponse),
        (status = 402, description = "The balance does not cover the calls", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company has not connected its OnlinePBX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid selection, dates or checklist", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The PBX refused or failed the request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Processing is not configured", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pbx/import")]
pub async fn import(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<ImportBody>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner().parse()?;
    let outcome = state.imports.import(&caller.actor, &request, &meta).await?;
    Ok(HttpResponse::Accepted().json(ImportResponse::new(outcome, true)))
}

/// `POST /operators/sync`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    /// Default: the caller's company.
    company_id: Option<Uuid>,
}

/// What a sync did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OperatorSyncResponse {
    /// Operators made for extensions no operator had.
    created: Vec<OperatorResponse>,
    /// Operators whose name the PBX changed.
    renamed: Vec<OperatorResponse>,
    /// PBX users whose operator was already up to date.
    unchanged: u32,
    /// Extensions that cannot be an operator code (empty, over 32 characters).
    skipped: Vec<String>,
}

impl From<OperatorSync> for OperatorSyncResponse {
    fn from(sync: OperatorSync) -> Self {
        Self {
            created: sync.created.into_iter().map(Into::into).collect(),
            renamed: sync.renamed.into_iter().map(Into::into).collect(),
            unchanged: sync.unchanged,
            skipped: sync.skipped,
        }
    }
}

/// Create or rename the company's operators from the PBX's users (extension → code); a code
/// is never duplicated.
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    request_body = SyncBody,
    responses(
        (status = 200, description = "Synced", body = OperatorSyncResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company has not connected its OnlinePBX", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The PBX refused or failed the request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/operators/sync")]
pub async fn sync_operators(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<SyncBody>,
) -> Result<web::Json<OperatorSyncResponse>, ApiError> {
    let sync = state
        .imports
        .sync_operators(
            &caller.actor,
            body.company_id.map(CompanyId::from_uuid),
            &meta,
        )
        .await?;
    Ok(web::Json(sync.into()))
}
