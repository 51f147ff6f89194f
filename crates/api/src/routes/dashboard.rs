//! The dashboard: one period's call volume, sentiment distributions, call purposes, operator
//! performance, satisfaction and repeat calls over the caller's calls.
//!
//! Scope as for the statistics: platform admins every company or one (`company_id`, with its
//! descendants); company administrators with `can_view_records` their companies (404 for any
//! other); everyone else their own calls. Percentages are 0–100 with two decimals; they and
//! the averages are null when there is nothing to divide by, counts are 0 and lists empty, so
//! an empty period answers in the same shape.

use actix_web::{get, web};
use dialix_reporting::{
    CallVolume, Dashboard, DayVolume, Distribution, OperatorPerformance, PurposeShare, RepeatCalls,
    Satisfaction, Sentiment,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::figures::FigurePeriod;
use super::figures::figure_request;
use crate::http::{ApiError, Authenticated, Problem, QueryValues};
use crate::state::AppState;

/// Period and company: the query of `GET /dashboard`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First local day (YYYY-MM-DD, the caller's time zone setting); default 29 days before
    /// `end_date`.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Last local day, included; default today. At most 366 days in all.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Only this company and its descendants (within the caller's scope; 404 outside it).
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
}

/// Calls of one local day.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DayCalls {
    #[schema(value_type = String, format = Date)]
    date: String,
    calls: u64,
    duration_ms: u64,
    /// The same, in minutes with two decimals.
    duration_minutes: f64,
}

impl From<&DayVolume> for DayCalls {
    fn from(d: &DayVolume) -> Self {
        Self {
            date: d.date.to_string(),
            calls: d.calls,
            duration_ms: d.duration_ms,
            duration_minutes: dialix_reporting::minutes(d.duration_ms),
        }
    }
}

/// The live calls whose call happened in the period (by call time), whatever their status.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CallVolumeFigures {
    total_calls: u64,
    total_duration_ms: u64,
    /// The same, in minutes with two decimals.
    total_duration_minutes: f64,
    /// Rounded to whole milliseconds; null without calls.
    average_duration_ms: Option<u64>,
    /// Every local day of the period in order, days without calls with zeros.
    days: Vec<DayCalls>,
}

impl From<&CallVolume> for CallVolumeFigures {
    fn from(v: &CallVolume) -> Self {
        Self {
            total_calls: v.calls,
            total_duration_ms: v.duration_ms,
            total_duration_minutes: dialix_reporting::minutes(v.duration_ms),
            average_duration_ms: v.average_duration_ms(),
            days: v.days.iter().map(DayCalls::from).collect(),
        }
    }
}

/// One sentiment value's calls and share.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SentimentShare {
    calls: u64,
    /// Of `analysed_calls`; null when there are none.
    percent: Option<f64>,
}

/// How one side's sentiment (conversation, client or operator) is distributed over the
/// analysed calls.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SentimentShares {
    /// Calls with a general analysis: the base of the percentages (calls not analysed are
    /// not counted).
    analysed_calls: u64,
    positive: SentimentShare,
    neutral: SentimentShare,
    negative: SentimentShare,
}

impl From<&Distribution> for SentimentShares {
    fn from(d: &Distribution) -> Self {
        let share = |value| SentimentShare {
            calls: d.calls(value),
            percent: d.percent(value),
        };
        Self {
            analysed_calls: d.total(),
            positive: share(Sentiment::Positive),
            neutral: share(Sentiment::Neutral),
            negative: share(Sentiment::Negative),
        }
    }
}

/// The sentiment of the whole conversation, of the client and of the operator.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DashboardSentiments {
    conversation: SentimentShares,
    client: SentimentShares,
    operator: SentimentShares,
}

/// One call purpose of the analysis.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CallPurposeShare {
    /// A purpose from the company's `call_purposes` setting, or `other`.
    purpose: String,
    calls: u64,
    /// Of the analysed calls (those with a purpose).
    percent: Option<f64>,
}

impl From<&PurposeShare> for CallPurposeShare {
    fn from(p: &PurposeShare) -> Self {
        Self {
            purpose: p.purpose.clone(),
            calls: p.calls,
            percent: p.percent,
        }
    }
}

/// One operator's calls in the period (calls carry an operator code; the operator is the
/// company's operator with that code, when there is one).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OperatorPerformanceFigures {
    /// Null when no operator of the company has this code (any more).
    operator_id: Option<Uuid>,
    company_id: Uuid,
    operator_code: String,
    /// Null when no operator of the company has this code.
    operator_name: Option<String>,
    calls: u64,
    /// Rounded to whole milliseconds.
    average_duration_ms: Option<u64>,
    /// Calls scored with a checklist.
    scored_calls: u64,
    /// Mean checklist score (0–100, two decimals) of the scored calls; null without any.
    average_checklist_score: Option<f64>,
    /// Scored calls with no failed critical item and a score at or above the pass mark.
    compliant_calls: u64,
    /// Compliant scored calls over scored calls; null without scored calls.
    compliance_rate_percent: Option<f64>,
}

impl From<&OperatorPerformance> for OperatorPerformanceFigures {
    fn from(o: &OperatorPerformance) -> Self {
        Self {
            operator_id: o.operator_id.map(|id| id.as_uuid()),
            company_id: o.company_id.as_uuid(),
            operator_code: o.operator_code.clone(),
            operator_name: o.operator_name.clone(),
            calls: o.calls,
            average_duration_ms: o.average_duration_ms,
            scored_calls: o.scored_calls,
            average_checklist_score: o.average_checklist_score,
            compliant_calls: o.compliant_calls,
            compliance_rate_percent: o.compliance_rate_percent,
        }
    }
}

/// Analysed calls whose customer was satisfied (the analysis' `is_customer_satisfied`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SatisfactionFigures {
    analysed_calls: u64,
    satisfied_calls: u64,
    /// Satisfied over analysed calls; null without analysed calls.
    satisfaction_rate_percent: Option<f64>,
}

impl From<&Satisfaction> for SatisfactionFigures {
    fn from(s: &Satisfaction) -> Self {
        Self {
            analysed_calls: s.analysed_calls,
            satisfied_calls: s.satisfied_calls,
            satisfaction_rate_percent: s.rate_percent(),
        }
    }
}

/// Repeat calls as `GET /calls/grouped` defines them with its defaults: a call of a client
/// number that follows the previous call of that number to the same company by more than
/// the transfer gap and at most the window. The previous call may be before the period, so
/// a call's status does not depend on where the period starts.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RepeatCallFigures {
    /// The period's calls with a client number.
    calls_with_number: u64,
    repeat_calls: u64,
    /// Repeat calls over calls with a number; null without any.
    repeat_call_rate_percent: Option<f64>,
    window_hours: u64,
    transfer_gap_minutes: u64,
}

impl From<&RepeatCalls> for RepeatCallFigures {
    fn from(r: &RepeatCalls) -> Self {
        Self {
            calls_with_number: r.calls_with_number,
            repeat_calls: r.repeat_calls,
            repeat_call_rate_percent: r.rate_percent(),
            window_hours: (r.rule.window_ms / 3_600_000).unsigned_abs(),
            transfer_gap_minutes: (r.rule.transfer_gap_ms / 60_000).unsigned_abs(),
        }
    }
}

/// The dashboard of one period.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DashboardResponse {
    period: FigurePeriod,
    call_volume: CallVolumeFigures,
    sentiment: DashboardSentiments,
    /// Most common first (ties by name).
    call_purposes: Vec<CallPurposeShare>,
    /// Per operator code of each company, most calls first (ties by company id, then code);
    /// calls without an operator code are in no row.
    operators: Vec<OperatorPerformanceFigures>,
    satisfaction: SatisfactionFigures,
    repeat_calls: RepeatCallFigures,
}

impl From<Dashboard> for DashboardResponse {
    fn from(d: Dashboard) -> Self {
        Self {
            period: (&d.period).into(),
            call_volume: (&d.volume).into(),
            sentiment: DashboardSentiments {
                conversation: (&d.conversation_sentiment).into(),
                client: (&d.client_sentiment).into(),
                operator: (&d.operator_sentiment).into(),
            },
            call_purposes: d.call_purposes.iter().map(Into::into).collect(),
            operators: d.operators.iter().map(Into::into).collect(),
            satisfaction: (&d.satisfaction).into(),
            repeat_calls: (&d.repeats).into(),
        }
    }
}

impl DashboardQuery {
    fn parse(&self) -> Result<dialix_reporting::FigureRequest, ApiError> {
        let mut values = QueryValues::default();
        let request = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        values.finish()?;
        Ok(request)
    }
}

/// The dashboard of the caller's calls over a period of local dates.
#[utoipa::path(
    tag = "dashboard",
    security(("bearer" = [])),
    params(DashboardQuery),
    responses(
        (status = 200, description = "The period's figures (zeros and empty lists when it has no calls)", body = DashboardResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`company_id` is outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, range or company id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<DashboardQuery>,
) -> Result<web::Json<DashboardResponse>, ApiError> {
    let request = query.parse()?;
    let figures = state.dashboard.dashboard(&caller.actor, &request).await?;
    Ok(web::Json(figures.into()))
}
