//! Calls grouped by client number: repeat-call chains with first-contact figures, one
//! number's calls, and similar calls.

use actix_web::{get, web};
use dialix_grouping::{
    Chain, ChainFilter, ChainReport, ChainSort, ChainSortKey, ChainSummary, MAX_SIMILAR,
    MAX_WINDOW_HOURS, NumberCall, SimilarCall, SimilarReason,
};
use dialix_kernel::{CompanyId, PageRequest, RecordId};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pages::PageOf;
use super::records::content;
use crate::http::{ApiError, Authenticated, Problem, QueryValues};
use crate::state::AppState;

/// The longest transfer gap, in minutes (it never exceeds the window either).
const MAX_TRANSFER_GAP_MINUTES: u32 = 1440;
/// `min_calls` above this lists nothing anyone needs.
const MAX_MIN_CALLS: u32 = 10_000;

/// Filters, sorting and paging of `GET /calls/grouped`. Values arrive as text and are
/// checked together (one 422 naming every bad one).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChainQuery {
    /// A call within this many hours of the previous call of the same number continues its
    /// chain (default 24).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 8760)]
    time_window_hours: Option<String>,
    /// A follow-up within this many minutes of the previous call is a transfer, not a repeat
    /// (default 15; at most the window).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 1440)]
    transfer_gap_minutes: Option<String>,
    /// Calls at or after (call time, RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    start_date: Option<String>,
    /// Calls at or before (call time, RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    end_date: Option<String>,
    /// Only chains in which this operator took a call.
    #[param(max_length = 32)]
    operator_code: Option<String>,
    /// Only this company and its descendants (within the caller's scope).
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
    /// Only chains of at least this many calls are listed (default 2; the summary counts
    /// every chain).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    min_calls: Option<String>,
    /// Default `-call_count`; a leading `-` means descending.
    #[param(value_type = Option<ChainOrder>, inline)]
    sort: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Chains to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
}

/// How `GET /calls/grouped` is ordered.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ChainOrder {
    #[schema(rename = "call_count")]
    CallCountAscending,
    #[schema(rename = "-call_count")]
    CallCountDescending,
    #[schema(rename = "last_call")]
    LastCallAscending,
    #[schema(rename = "-last_call")]
    LastCallDescending,
    #[schema(rename = "negative_share")]
    NegativeShareAscending,
    #[schema(rename = "-negative_share")]
    NegativeShareDescending,
}

impl ChainQuery {
    fn parse(&self) -> Result<(ChainFilter, PageRequest), ApiError> {
        let mut values = QueryValues::default();
        let defaults = ChainFilter::default();
        let window_hours = values
            .number(
                "time_window_hours",
                self.time_window_hours.as_deref(),
                1..=MAX_WINDOW_HOURS,
            )
            .unwrap_or(defaults.window.whole_hours() as u32);
        let window = Duration::hours(i64::from(window_hours));
        let transfer_gap = values
            .number(
                "transfer_gap_minutes",
                self.transfer_gap_minutes.as_deref(),
                0..=MAX_TRANSFER_GAP_MINUTES,
            )
            .map_or(defaults.transfer_gap, |m| Duration::minutes(i64::from(m)));
        if transfer_gap > window {
            values.errors.add(
                "transfer_gap_minutes",
                "must not be longer than time_window_hours",
            );
        }
        let from = values.date("start_date", self.start_date.as_deref());
        let to = values.date("end_date", self.end_date.as_deref());
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            values
                .errors
                .add("end_date", "must not be before start_date");
        }
        let company = values
            .uuid("company_id", self.company_id.as_deref())
            .map(CompanyId::from_uuid);
        let min_calls = values
            .number("min_calls", self.min_calls.as_deref(), 1..=MAX_MIN_CALLS)
            .unwrap_or(defaults.min_calls);
        let sort = match self.sort.as_deref().map(str::trim) {
            None => Some(ChainSort::default()),
            Some(raw) => {
                let (descending, name) = match raw.strip_prefix('-') {
                    Some(name) => (true, name),
                    None => (false, raw),
                };
                let key = match name {
                    "call_count" => Some(ChainSortKey::CallCount),
                    "last_call" => Some(ChainSortKey::LastCall),
                    "negative_share" => Some(ChainSortKey::NegativeShare),
                    _ => None,
                };
                key.map(|key| ChainSort { key, descending })
            }
        };
        if sort.is_none() {
            values.errors.add(
                "sort",
                "must be call_count, last_call or negative_share, with a leading - for descending",
            );
        }
        let page = values.page(self.limit.as_deref(), self.offset.as_deref());
        values.finish()?;
        let filter = ChainFilter {
            company,
            window,
            transfer_gap,
            from,
            to,
            operator_code: self
                .operator_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            min_calls,
            sort: sort.unwrap_or_default(),
            ..defaults
        };
        Ok((filter, page))
    }
}

/// Calls of each overall sentiment; `unknown` counts calls without an analysis.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SentimentDistribution {
    positive: u64,
    neutral: u64,
    negative: u64,
    unknown: u64,
}

/// One client number's chain: consecutive calls, each within the window of the previous.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CallChain {
    company_id: Uuid,
    /// E.164.
    client_phone_number: String,
    /// The first call of the chain.
    #[serde(with = "crate::http::timestamp")]
    chain_started_at: OffsetDateTime,
    /// The last call of the chain.
    #[serde(with = "crate::http::timestamp")]
    chain_ended_at: OffsetDateTime,
    call_count: u64,
    /// Follow-ups later than the transfer gap.
    repeat_count: u64,
    /// Follow-ups within the transfer gap.
    transfer_count: u64,
    total_duration_ms: u64,
    average_duration_ms: u64,
    sentiment: SentimentDistribution,
    /// Operator codes of the chain's calls, sorted.
    operators: Vec<String>,
    /// Whether the customer was satisfied at the chain's last call (its analysis); null when
    /// that call has no analysis.
    last_call_resolved: Option<bool>,
    /// The newest 50 calls of the chain, newest first (`call_count` has them all).
    record_ids: Vec<Uuid>,
    /// The client's name from the company's CRM, when a lookup found the client: that of
    /// the chain's latest call with one.
    customer_name: Option<String>,
    /// The window after the last call has not closed by the end of the period (or now): a
    /// repeat may still follow.
    window_open: bool,
}

impl From<Chain> for CallChain {
    fn from(chain: Chain) -> Self {
        Self {
            average_duration_ms: chain.average_duration_ms(),
            company_id: chain.company_id.as_uuid(),
            client_phone_number: chain.client_phone_number,
            chain_started_at: chain.started_at,
            chain_ended_at: chain.ended_at,
            call_count: chain.call_count,
            repeat_count: chain.repeat_count,
            transfer_count: chain.transfer_count,
            total_duration_ms: chain.total_duration_ms,
            sentiment: SentimentDistribution {
                positive: chain.sentiments.positive,
                neutral: chain.sentiments.neutral,
                negative: chain.sentiments.negative,
                unknown: chain.sentiments.unknown,
            },
            operators: chain.operators,
            last_call_resolved: chain.last_call_resolved,
            record_ids: chain.record_ids.iter().map(|id| id.as_uuid()).collect(),
            customer_name: chain.customer_name,
            window_open: chain.window_open,
        }
    }
}

/// Figures over every chain of the filters (not only the listed page). Rates are null when
/// there is nothing to divide by. Definitions: `docs/grouping.md`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChainFigures {
    /// Calls with a client number.
    calls: u64,
    /// Calls without a client number: never grouped.
    calls_without_number: u64,
    chains: u64,
    /// Follow-ups within the window and later than the transfer gap.
    repeat_calls: u64,
    /// Follow-ups within the transfer gap.
    transfer_calls: u64,
    /// Repeat calls over calls with a number.
    repeat_call_rate_percent: Option<f64>,
    /// Chains whose window after the last call has closed.
    closed_chains: u64,
    /// Closed chains with a single contact (transfers are not contacts).
    first_contact_resolved_chains: u64,
    /// First-contact-resolved chains over closed chains.
    first_contact_resolution_percent: Option<f64>,
    /// Chains whose last call is within the window of the end of the period (or now): too
    /// recent to know whether a repeat follows; left out of first-contact resolution.
    open_chains: u64,
    /// The mean time from a call to its repeat.
    average_repeat_gap_minutes: Option<f64>,
}

impl From<ChainSummary> for ChainFigures {
    fn from(s: ChainSummary) -> Self {
        Self {
            repeat_call_rate_percent: s.repeat_call_rate_percent(),
            first_contact_resolution_percent: s.first_contact_resolution_percent(),
            average_repeat_gap_minutes: s.average_repeat_gap_minutes(),
            calls: s.calls,
            calls_without_number: s.calls_without_number,
            chains: s.chains,
            repeat_calls: s.repeat_calls,
            transfer_calls: s.transfer_calls,
            closed_chains: s.closed_chains,
            first_contact_resolved_chains: s.first_contact_resolved,
            open_chains: s.open_chains,
        }
    }
}

/// A page of chains with the figures over all of them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChainPage {
    items: Vec<CallChain>,
    /// Chains listed by the filters (`min_calls` included), not just this page.
    total: u64,
    limit: u64,
    offset: u64,
    summary: ChainFigures,
}

impl From<ChainReport> for ChainPage {
    fn from(report: ChainReport) -> Self {
        let page = PageOf::from_page(report.chains, CallChain::from);
        Self {
            items: page.items,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
            summary: report.summary.into(),
        }
    }
}

/// Repeat-call chains of the caller's calls (the scope of `GET /records`), with repeat-call
/// rate and first-contact resolution over all of them.
#[utoipa::path(
    tag = "grouping",
    security(("bearer" = [])),
    params(ChainQuery),
    responses(
        (status = 200, description = "Chains and figures", body = ChainPage),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters, sorting or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calls/grouped")]
pub async fn grouped_calls(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ChainQuery>,
) -> Result<web::Json<ChainPage>, ApiError> {
    let (filter, page) = query.parse()?;
    let report = state.grouping.chains(&caller.actor, filter, page).await?;
    Ok(web::Json(report.into()))
}

/// Paging of one number's calls, optionally within one company.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NumberQuery {
    /// Only this company and its descendants (within the caller's scope).
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Calls to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
}

/// One call of a number, as the expanded group shows it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NumberCallResponse {
    record_id: Uuid,
    company_id: Uuid,
    /// When the call started (the upload time when unknown).
    #[serde(with = "crate::http::timestamp")]
    call_at: OffsetDateTime,
    duration_ms: u64,
    status: content::RecordStatus,
    call_type: Option<content::CallType>,
    operator_code: Option<String>,
    /// The conversation sentiment, once analysed.
    sentiment: Option<content::SentimentValue>,
    summary: Option<String>,
    call_purpose: Option<String>,
    customer_satisfied: Option<bool>,
    /// 0–100, once scored with a checklist.
    checklist_score: Option<f64>,
}

impl From<NumberCall> for NumberCallResponse {
    fn from(call: NumberCall) -> Self {
        Self {
            record_id: call.id.as_uuid(),
            company_id: call.company_id.as_uuid(),
            call_at: call.call_at,
            duration_ms: call.duration_ms,
            status: call.status.into(),
            call_type: call.call_type.map(Into::into),
            operator_code: call.operator_code,
            sentiment: call.sentiment.map(Into::into),
            summary: call.summary,
            call_purpose: call.call_purpose,
            customer_satisfied: call.customer_satisfied,
            checklist_score: call.checklist_score,
        }
    }
}

/// Every call of one client number in the caller's scope, oldest first (the expanded
/// group). The number may be written as an upload accepts it (`901234567`,
/// `+998 90 123 45 67`, `998901234567`).
#[utoipa::path(
    tag = "grouping",
    security(("bearer" = [])),
    params(("phone" = String, Path, description = "The client number", max_length = 32), NumberQuery),
    responses(
        (status = 200, description = "The number's calls", body = PageOf<NumberCallResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a phone number, or invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calls/grouped/{phone}")]
pub async fn number_calls(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    query: web::Query<NumberQuery>,
) -> Result<web::Json<PageOf<NumberCallResponse>>, ApiError> {
    let mut values = QueryValues::default();
    let company = values
        .uuid("company_id", query.company_id.as_deref())
        .map(CompanyId::from_uuid);
    let page = values.page(query.limit.as_deref(), query.offset.as_deref());
    values.finish()?;
    let calls = state
        .grouping
        .calls_of_number(&caller.actor, &path, company, page)
        .await?;
    Ok(web::Json(PageOf::from_page(
        calls,
        NumberCallResponse::from,
    )))
}

/// How many similar calls to return.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// At most this many (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
}

/// Why a call is offered as similar.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimilarityReason {
    /// Another call of the same client number.
    SameNumber,
    /// Same company and call purpose, with key words in common.
    SamePurposeAndKeyWords,
}

/// A call similar to the one asked about.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SimilarCallResponse {
    record_id: Uuid,
    company_id: Uuid,
    client_phone_number: Option<String>,
    #[serde(with = "crate::http::timestamp")]
    call_at: OffsetDateTime,
    operator_code: Option<String>,
    call_purpose: Option<String>,
    sentiment: Option<content::SentimentValue>,
    reason: SimilarityReason,
    /// Key-word overlap with the call asked about: shared over all distinct key words (0–1).
    #[schema(minimum = 0.0, maximum = 1.0)]
    score: f64,
    shared_key_words: Vec<String>,
}

impl From<SimilarCall> for SimilarCallResponse {
    fn from(call: SimilarCall) -> Self {
        Self {
            record_id: call.id.as_uuid(),
            company_id: call.company_id.as_uuid(),
            client_phone_number: call.client_phone_number,
            call_at: call.call_at,
            operator_code: call.operator_code,
            call_purpose: call.call_purpose,
            sentiment: call.sentiment.map(Into::into),
            reason: match call.reason {
                SimilarReason::SameNumber => SimilarityReason::SameNumber,
                SimilarReason::SamePurposeAndKeyWords => SimilarityReason::SamePurposeAndKeyWords,
            },
            score: call.score,
            shared_key_words: call.shared_key_words,
        }
    }
}

/// Calls similar to one: first the other calls of its number (newest first), then calls of
/// its company with the same purpose, by key-word overlap.
#[utoipa::path(
    tag = "grouping",
    security(("bearer" = [])),
    params(("record_id" = Uuid, Path, description = "The record"), SimilarQuery),
    responses(
        (status = 200, description = "Similar calls, most similar first", body = Vec<SimilarCallResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calls/similar/{record_id}")]
pub async fn similar_calls(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<RecordId>,
    query: web::Query<SimilarQuery>,
) -> Result<web::Json<Vec<SimilarCallResponse>>, ApiError> {
    let mut values = QueryValues::default();
    let limit = values
        .number("limit", query.limit.as_deref(), 1..=MAX_SIMILAR as u32)
        .unwrap_or(10);
    values.finish()?;
    let similar = state
        .grouping
        .similar(&caller.actor, path.into_inner(), u64::from(limit))
        .await?;
    Ok(web::Json(
        similar.into_iter().map(SimilarCallResponse::from).collect(),
    ))
}
