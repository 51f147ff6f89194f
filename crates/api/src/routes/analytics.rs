//! Usage statistics: usage, expenses, revenue and trends over a period of local dates, as JSON
//! or CSV (the same rows, with a header line).
//!
//! Scope: platform admins see every company or one (`company_id`, with its descendants);
//! company administrators with `can_view_records` their companies (404 for any other);
//! everyone else only their own calls and the charges made to them, never a colleague's.
//! Calls count by when they happened (`call_at`); money by when the ledger entry was made.
//! Money is in integer minor units (like `balance`); spend is positive.

use actix_web::{HttpResponse, get, web};
use dialix_kernel::ChargedFor;
use dialix_reporting::{
    ExpenseGrouping, ExpenseKey, ExpenseRow, Expenses, FigureRequest, Granularity, Revenue, Spend,
    Trends, Usage,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::figures::{ExportFormat, FigurePeriod, figure_request};
use crate::http::{ApiError, Authenticated, Cell, CsvTable, Problem, QueryValues};
use crate::state::AppState;

/// Period, company and format: the query of `GET /analytics/usage`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
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
    /// `json` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
}

/// The query of `GET /analytics/expenses`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExpensesQuery {
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
    /// How rows are grouped (default `day`).
    #[param(value_type = Option<ExpenseGroupBy>, inline)]
    group_by: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
}

/// The query of `GET /analytics/trends` and `GET /analytics/revenue`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
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
    /// Bucket size (default `day` for trends, `month` for revenue). Buckets start at local
    /// midnight in the caller's time zone; weeks on Monday.
    #[param(value_type = Option<SeriesGranularity>, inline)]
    granularity: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
}

/// How expense rows are grouped: by the charged account, the charged call's operator, the
/// company, or local day / ISO week / month.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExpenseGroupBy {
    User,
    Operator,
    Company,
    Day,
    Week,
    Month,
}

impl From<ExpenseGrouping> for ExpenseGroupBy {
    fn from(g: ExpenseGrouping) -> Self {
        match g {
            ExpenseGrouping::User => Self::User,
            ExpenseGrouping::Operator => Self::Operator,
            ExpenseGrouping::Company => Self::Company,
            ExpenseGrouping::Day => Self::Day,
            ExpenseGrouping::Week => Self::Week,
            ExpenseGrouping::Month => Self::Month,
        }
    }
}

/// The size of a series' buckets.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeriesGranularity {
    Day,
    Week,
    Month,
}

impl From<Granularity> for SeriesGranularity {
    fn from(g: Granularity) -> Self {
        match g {
            Granularity::Day => Self::Day,
            Granularity::Week => Self::Week,
            Granularity::Month => Self::Month,
        }
    }
}

fn granularity(values: &mut QueryValues, raw: Option<&str>, default: Granularity) -> Granularity {
    let names: Vec<&str> = Granularity::ALL.iter().map(|g| g.as_str()).collect();
    values
        .choice("granularity", raw, Granularity::parse, &names)
        .unwrap_or(default)
}

/// What the scope's calls used in the period. Calls are the live (undeleted) records whose
/// call happened in the period; charge counts are the ledger charges made in the period.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct UsageFigures {
    period: FigurePeriod,
    /// Calls uploaded, whatever their status.
    calls_uploaded: u64,
    /// Of those, analysed (`done`).
    calls_processed: u64,
    /// Of those, `failed`.
    calls_failed: u64,
    /// Their total duration.
    audio_ms: u64,
    /// The same, in minutes with two decimals.
    audio_minutes: f64,
    /// Speech-to-text charges (one per transcribed call or re-transcription).
    speech_to_text_count: u64,
    /// General-analysis charges.
    general_analysis_count: u64,
    /// Checklist-review charges.
    checklist_count: u64,
    /// Answered chat questions charged.
    chat_questions: u64,
    /// The stored audio of those calls.
    storage_bytes: u64,
    /// Distinct uploaders of those calls.
    active_users: u64,
}

const USAGE_HEADER: [&str; 14] = [
    "start_date",
    "end_date",
    "timezone",
    "calls_uploaded",
    "calls_processed",
    "calls_failed",
    "audio_ms",
    "audio_minutes",
    "speech_to_text_count",
    "general_analysis_count",
    "checklist_count",
    "chat_questions",
    "storage_bytes",
    "active_users",
];

impl From<Usage> for UsageFigures {
    fn from(u: Usage) -> Self {
        let count = |item| u.charges.get(&item).copied().unwrap_or(0);
        Self {
            period: (&u.period).into(),
            calls_uploaded: u.calls.uploaded,
            calls_processed: u.calls.processed,
            calls_failed: u.calls.failed,
            audio_ms: u.calls.audio_ms,
            audio_minutes: dialix_reporting::minutes(u.calls.audio_ms),
            speech_to_text_count: count(ChargedFor::SpeechToText),
            general_analysis_count: count(ChargedFor::GeneralAnalysis),
            checklist_count: count(ChargedFor::Checklist),
            chat_questions: count(ChargedFor::Chat),
            storage_bytes: u.calls.storage_bytes,
            active_users: u.calls.active_users,
        }
    }
}

impl UsageFigures {
    fn csv(&self) -> CsvTable {
        let mut table = CsvTable::new(&USAGE_HEADER);
        table.row([
            Cell::from(self.period.start_date.as_str()),
            Cell::from(self.period.end_date.as_str()),
            Cell::from(self.period.timezone.as_str()),
            Cell::number(self.calls_uploaded),
            Cell::number(self.calls_processed),
            Cell::number(self.calls_failed),
            Cell::number(self.audio_ms),
            Cell::number(format!("{:.2}", self.audio_minutes)),
            Cell::number(self.speech_to_text_count),
            Cell::number(self.general_analysis_count),
            Cell::number(self.checklist_count),
            Cell::number(self.chat_questions),
            Cell::number(self.storage_bytes),
            Cell::number(self.active_users),
        ]);
        table
    }
}

/// Spend by kind in positive minor units; `total_amount` is every charge (also any recorded
/// without a kind).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SpendTotals {
    /// Ledger charges counted.
    charges: u64,
    speech_to_text_amount: i64,
    general_analysis_amount: i64,
    checklist_amount: i64,
    /// Chat questions.
    chat_amount: i64,
    total_amount: i64,
}

impl SpendTotals {
    fn new(charges: u64, spend: &Spend) -> Self {
        Self {
            charges,
            speech_to_text_amount: spend.speech_to_text,
            general_analysis_amount: spend.general_analysis,
            checklist_amount: spend.checklist,
            chat_amount: spend.chat,
            total_amount: spend.total,
        }
    }
}

/// One group of charges. `key` is what the row is about: the charged account's id (`user`;
/// null for charges without one), the charged call's operator code (`operator`; null for
/// charges of calls without an operator and of no call), the company id (`company`), or the
/// bucket's first local day (`day`/`week`/`month`: the day, the week's Monday, the month's
/// first day — which may precede `start_date` for the first bucket).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExpenseGroup {
    #[schema(required = true)]
    key: Option<String>,
    /// The account's username (`user`) or the company's name (`company`); null otherwise.
    #[schema(required = true)]
    label: Option<String>,
    #[serde(flatten)]
    spend: SpendTotals,
}

impl From<ExpenseRow> for ExpenseGroup {
    fn from(row: ExpenseRow) -> Self {
        let (key, label) = match row.key {
            ExpenseKey::User { id, username } => (id.map(|i| i.as_uuid().to_string()), username),
            ExpenseKey::Operator(code) => (code, None),
            ExpenseKey::Company { id, name } => (Some(id.as_uuid().to_string()), name),
            ExpenseKey::Bucket(date) => (Some(date.to_string()), None),
        };
        Self {
            key,
            label,
            spend: SpendTotals::new(row.charges, &row.spend),
        }
    }
}

/// Ledger charges made in the period, grouped. Time groups list every bucket in order (empty
/// ones zero); other groups are sorted by `total_amount`, largest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExpenseReport {
    period: FigurePeriod,
    #[schema(value_type = ExpenseGroupBy)]
    group_by: String,
    rows: Vec<ExpenseGroup>,
    /// Over every row.
    totals: SpendTotals,
}

impl From<Expenses> for ExpenseReport {
    fn from(e: Expenses) -> Self {
        Self {
            period: (&e.period).into(),
            group_by: e.group_by.as_str().to_owned(),
            totals: SpendTotals::new(e.charges, &e.total),
            rows: e.rows.into_iter().map(Into::into).collect(),
        }
    }
}

impl ExpenseReport {
    fn csv(&self) -> CsvTable {
        let mut table = CsvTable::new(&[
            "key",
            "label",
            "charges",
            "speech_to_text_amount",
            "general_analysis_amount",
            "checklist_amount",
            "chat_amount",
            "total_amount",
        ]);
        for row in &self.rows {
            let s = &row.spend;
            table.row([
                Cell::from(row.key.as_deref().unwrap_or("")),
                Cell::from(row.label.as_deref().unwrap_or("")),
                Cell::number(s.charges),
                Cell::number(s.speech_to_text_amount),
                Cell::number(s.general_analysis_amount),
                Cell::number(s.checklist_amount),
                Cell::number(s.chat_amount),
                Cell::number(s.total_amount),
            ]);
        }
        table
    }
}

/// One bucket of the trend series.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrendBucket {
    /// The bucket's first local day (the week's Monday, the month's first day).
    #[schema(value_type = String, format = Date)]
    start_date: String,
    /// Calls that happened in the bucket.
    calls: u64,
    audio_ms: u64,
    /// Two decimals.
    audio_minutes: f64,
    /// Charges made in the bucket, positive minor units.
    spend_amount: i64,
}

/// Calls, minutes and spend per bucket: every bucket of the period, in order, empty ones zero.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrendSeries {
    period: FigurePeriod,
    #[schema(value_type = SeriesGranularity)]
    granularity: String,
    buckets: Vec<TrendBucket>,
}

impl From<Trends> for TrendSeries {
    fn from(t: Trends) -> Self {
        Self {
            period: (&t.period).into(),
            granularity: t.granularity.as_str().to_owned(),
            buckets: t
                .points
                .into_iter()
                .map(|p| TrendBucket {
                    start_date: p.start_date.to_string(),
                    calls: p.calls,
                    audio_ms: p.audio_ms,
                    audio_minutes: dialix_reporting::minutes(p.audio_ms),
                    spend_amount: p.spend,
                })
                .collect(),
        }
    }
}

impl TrendSeries {
    fn csv(&self) -> CsvTable {
        let mut table = CsvTable::new(&[
            "start_date",
            "calls",
            "audio_ms",
            "audio_minutes",
            "spend_amount",
        ]);
        for b in &self.buckets {
            table.row([
                Cell::from(b.start_date.as_str()),
                Cell::number(b.calls),
                Cell::number(b.audio_ms),
                Cell::number(format!("{:.2}", b.audio_minutes)),
                Cell::number(b.spend_amount),
            ]);
        }
        table
    }
}

/// One company's top-ups in the period.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CompanyTopUps {
    company_id: Uuid,
    company_name: String,
    topups: u64,
    /// Minor units.
    amount: i64,
}

/// Top-ups of one bucket, every company together.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RevenueBucket {
    /// The bucket's first local day (the week's Monday, the month's first day).
    #[schema(value_type = String, format = Date)]
    start_date: String,
    topups: u64,
    amount: i64,
}

/// Platform revenue: top-ups per company (largest amount first) and per bucket (every
/// bucket, empty ones zero). The CSV has the per-company rows.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RevenueReport {
    period: FigurePeriod,
    #[schema(value_type = SeriesGranularity)]
    granularity: String,
    /// Top-ups in the period.
    topups: u64,
    /// Their sum, minor units.
    amount: i64,
    companies: Vec<CompanyTopUps>,
    buckets: Vec<RevenueBucket>,
}

impl From<Revenue> for RevenueReport {
    fn from(r: Revenue) -> Self {
        Self {
            period: (&r.period).into(),
            granularity: r.granularity.as_str().to_owned(),
            topups: r.topups,
            amount: r.amount,
            companies: r
                .companies
                .into_iter()
                .map(|c| CompanyTopUps {
                    company_id: c.company_id.as_uuid(),
                    company_name: c.company_name,
                    topups: c.topups,
                    amount: c.amount,
                })
                .collect(),
            buckets: r
                .points
                .into_iter()
                .map(|p| RevenueBucket {
                    start_date: p.start_date.to_string(),
                    topups: p.topups,
                    amount: p.amount,
                })
                .collect(),
        }
    }
}

impl RevenueReport {
    fn csv(&self) -> CsvTable {
        let mut table = CsvTable::new(&["company_id", "company_name", "topups", "amount"]);
        for c in &self.companies {
            let id = c.company_id.to_string();
            table.row([
                Cell::from(id.as_str()),
                Cell::from(c.company_name.as_str()),
                Cell::number(c.topups),
                Cell::number(c.amount),
            ]);
        }
        table
    }
}

impl UsageQuery {
    /// Checks everything at once, so a caller sees all mistakes in one 422.
    fn parse(&self) -> Result<(FigureRequest, ExportFormat), ApiError> {
        let mut values = QueryValues::default();
        let request = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        let format = ExportFormat::parse(&mut values, self.format.as_deref());
        values.finish()?;
        Ok((request, format))
    }
}

impl ExpensesQuery {
    fn parse(&self) -> Result<(FigureRequest, ExpenseGrouping, ExportFormat), ApiError> {
        let mut values = QueryValues::default();
        let request = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        let names: Vec<&str> = ExpenseGrouping::ALL.iter().map(|g| g.as_str()).collect();
        let group_by = values
            .choice(
                "group_by",
                self.group_by.as_deref(),
                ExpenseGrouping::parse,
                &names,
            )
            .unwrap_or_default();
        let format = ExportFormat::parse(&mut values, self.format.as_deref());
        values.finish()?;
        Ok((request, group_by, format))
    }
}

impl SeriesQuery {
    fn parse(
        &self,
        default: Granularity,
    ) -> Result<(FigureRequest, Granularity, ExportFormat), ApiError> {
        let mut values = QueryValues::default();
        let request = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        let granularity = granularity(&mut values, self.granularity.as_deref(), default);
        let format = ExportFormat::parse(&mut values, self.format.as_deref());
        values.finish()?;
        Ok((request, granularity, format))
    }
}

/// Usage in the period: calls uploaded / processed / failed, audio, charge counts by kind,
/// storage and active users. Calls are counted by when they happened (`call_at`), the charges
/// by when they were made. `storage_bytes` is the audio of those calls; `active_users` their
/// distinct uploaders. An empty period gives zeros. CSV: one row, the same fields.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "Usage figures (or CSV with format=csv)",
            content((UsageFigures = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period, company or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/analytics/usage")]
pub async fn usage(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, format) = query.parse()?;
    let usage = state.usage.usage(&caller.actor, &request).await?;
    Ok(format.respond(UsageFigures::from(usage), UsageFigures::csv, "usage.csv"))
}

/// Spend in the period: ledger charges made in it (by `created_at`), by kind (speech-to-text,
/// general analysis, checklist, chat) as positive minor units, grouped by `group_by` (default
/// `day`). `user`: the account charged (the call's uploader, the chat's asker); `operator`: the
/// charged call's operator code (null: no operator or no call); `company`: the company
/// charged; `day`/`week`/`month`: buckets cut at local midnight in the caller's time zone,
/// every bucket listed. A plain user sees only the charges made to them. CSV: the rows.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(ExpensesQuery),
    responses(
        (status = 200, description = "Spend by group and kind (or CSV with format=csv)",
            content((ExpenseReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period, company, group_by or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/analytics/expenses")]
pub async fn expenses(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ExpensesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, group_by, format) = query.parse()?;
    let expenses = state
        .usage
        .expenses(&caller.actor, &request, group_by)
        .await?;
    Ok(format.respond(
        ExpenseReport::from(expenses),
        ExpenseReport::csv,
        "expenses.csv",
    ))
}

/// Platform revenue (platform admins only): top-ups (`topup` ledger entries) made in the
/// period, per company and per bucket (`granularity`, default `month`, cut in the caller's
/// time zone). `company_id` narrows to one company and its descendants. CSV: the per-company
/// rows.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(SeriesQuery),
    responses(
        (status = 200, description = "Top-ups per company and bucket (or CSV with format=csv)",
            content((RevenueReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period, company, granularity or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/analytics/revenue")]
pub async fn revenue(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, granularity, format) = query.parse(Granularity::Month)?;
    let revenue = state
        .usage
        .revenue(&caller.actor, &request, granularity)
        .await?;
    Ok(format.respond(
        RevenueReport::from(revenue),
        RevenueReport::csv,
        "revenue.csv",
    ))
}

/// Calls, audio minutes and spend per bucket (`granularity`, default `day`): every bucket of
/// the period in order, empty ones zero. Buckets start at local midnight in the caller's time
/// zone setting (a call at 23:30 UTC is the next day in Asia/Tashkent, the default); calls
/// count by when they happened, spend by when it was charged. CSV: the buckets.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(SeriesQuery),
    responses(
        (status = 200, description = "The series (or CSV with format=csv)",
            content((TrendSeries = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period, company, granularity or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/analytics/trends")]
pub async fn trends(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, granularity, format) = query.parse(Granularity::Day)?;
    let trends = state
        .usage
        .trends(&caller.actor, &request, granularity)
        .await?;
    Ok(format.respond(TrendSeries::from(trends), TrendSeries::csv, "trends.csv"))
}
