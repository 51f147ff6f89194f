//! The compliance dashboard: metrics, violations, per-operator tracking and reports.
//!
//! Scope as for every figure (`reporting::Framing`): platform admins every company or one,
//! company administrators with `can_view_records` their companies, everyone else their own
//! calls. A call is compliant when no critical item failed and its score reached the
//! checklist version's pass mark. Rates are percentages (0–100, two decimals) and scores
//! 0–100; both are null where no call was scored, and a change is null where either period
//! had none.

use actix_web::{HttpResponse, get, post, web};
use dialix_kernel::{ChecklistId, OperatorId};
use dialix_reporting::{
    Compared, ComplianceMetrics, ComplianceReport, ComplianceRequest, FailedItem, FigureRequest,
    Granularity, ItemFigures, OperatorFigures, OperatorTracking, Period, Tally, TrackingRequest,
    Violation, ViolationsRequest,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::figures::FigurePeriod;
use super::figures::{ExportFormat, figure_request};
use super::pages::PageOf;
use crate::documents::{Column, Document, Section, Table, render_pdf};
use crate::http::{ApiError, Authenticated, Cell, CsvTable, Problem, QueryValues};
use crate::state::AppState;

/// The most operators one report may name.
const MAX_REPORT_OPERATORS: usize = 100;
/// The longest checklist item id (`segment.item`).
const MAX_ITEM_ID: usize = 32;

/// The query of `GET /compliance/metrics`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
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
    /// Only this operator's calls (404 outside the caller's scope).
    #[param(value_type = Option<Uuid>)]
    operator_id: Option<String>,
    /// Only calls scored with this checklist.
    #[param(value_type = Option<Uuid>)]
    checklist_id: Option<String>,
}

/// The query of `GET /compliance/violations`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViolationsQuery {
    /// First local day of call time (YYYY-MM-DD, the caller's time zone setting); default 29
    /// days before `end_date`.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Last local day, included; default today. At most 366 days in all.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Only this company and its descendants (within the caller's scope; 404 outside it).
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
    /// Only this operator's calls (404 outside the caller's scope).
    #[param(value_type = Option<Uuid>)]
    operator_id: Option<String>,
    /// Only verdicts of this checklist.
    #[param(value_type = Option<Uuid>)]
    checklist_id: Option<String>,
    /// Only this item (`segment.item`, e.g. `1.2`).
    #[param(max_length = 32)]
    item_id: Option<String>,
    /// Only failed critical items (default false).
    #[param(value_type = Option<bool>)]
    critical_only: Option<String>,
    /// `json` (a page, default) or `csv` (every match, newest first, at most 10,000 rows;
    /// page with JSON for more).
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
    /// Page size (default 50; JSON only).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Violations to skip (default 0; JSON only).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
}

/// The query of `GET /compliance/tracking/{operator_id}`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackingQuery {
    /// First local day (YYYY-MM-DD, the caller's time zone setting); default 29 days before
    /// `end_date`.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Last local day, included; default today. At most 366 days in all.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Only this company and its descendants (within the caller's scope; 404 outside it, or
    /// when the operator is not in it).
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
    /// Bucket size (default `day`); buckets start at local midnight, weeks on Monday.
    #[param(value_type = Option<TrackingGranularity>, inline)]
    granularity: Option<String>,
}

/// The buckets of an operator's series.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrackingGranularity {
    Day,
    Week,
}

/// What `POST /compliance/reports` returns.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Pdf,
}

/// The PDF report's bytes (documentation only), so generated clients offer a download.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ReportPdf(Vec<u8>);

/// `POST /compliance/reports`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// First local day (the caller's time zone setting); default 29 days before `end_date`.
    #[schema(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Last local day, included; default today. At most 366 days in all.
    #[schema(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Only this company and its descendants (within the caller's scope; 404 outside it).
    company_id: Option<Uuid>,
    /// Only these operators' calls (at most 100; 404 when one is outside the caller's scope).
    operator_ids: Option<Vec<Uuid>>,
    /// Only calls scored with this checklist.
    checklist_id: Option<Uuid>,
    /// Default `json`.
    #[schema(value_type = Option<ReportFormat>, inline)]
    format: Option<String>,
}

/// Scored calls and their compliance in the period and in the previous one of the same
/// length.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplianceFigures {
    /// Calls with a checklist score.
    scored_calls: u64,
    /// Scored calls with no failed critical item and a score at or above the pass mark.
    compliant_calls: u64,
    /// Compliant over scored calls (0–100); null without scored calls.
    compliance_rate_percent: Option<f64>,
    /// Mean checklist score (0–100); null without scored calls.
    average_score: Option<f64>,
    previous_scored_calls: u64,
    previous_compliant_calls: u64,
    previous_compliance_rate_percent: Option<f64>,
    previous_average_score: Option<f64>,
    /// Rate minus the previous rate, in percentage points; null when either period had no
    /// scored calls.
    compliance_rate_change_points: Option<f64>,
    /// Average score minus the previous one, in score points; null when either period had no
    /// scored calls.
    average_score_change_points: Option<f64>,
}

impl From<&Compared<Tally>> for ComplianceFigures {
    fn from(c: &Compared<Tally>) -> Self {
        Self {
            scored_calls: c.current.scored_calls,
            compliant_calls: c.current.compliant_calls,
            compliance_rate_percent: c.current.compliance_rate_percent(),
            average_score: c.current.average_score(),
            previous_scored_calls: c.previous.scored_calls,
            previous_compliant_calls: c.previous.compliant_calls,
            previous_compliance_rate_percent: c.previous.compliance_rate_percent(),
            previous_average_score: c.previous.average_score(),
            compliance_rate_change_points: c.compliance_rate_change_points(),
            average_score_change_points: c.average_score_change_points(),
        }
    }
}

const FIGURE_HEADER: [&str; 10] = [
    "scored_calls",
    "compliant_calls",
    "compliance_rate_percent",
    "average_score",
    "previous_scored_calls",
    "previous_compliant_calls",
    "previous_compliance_rate_percent",
    "previous_average_score",
    "compliance_rate_change_points",
    "average_score_change_points",
];

impl ComplianceFigures {
    fn cells(&self) -> [Cell<'static>; 10] {
        [
            Cell::number(self.scored_calls),
            Cell::number(self.compliant_calls),
            decimal(self.compliance_rate_percent),
            decimal(self.average_score),
            Cell::number(self.previous_scored_calls),
            Cell::number(self.previous_compliant_calls),
            decimal(self.previous_compliance_rate_percent),
            decimal(self.previous_average_score),
            decimal(self.compliance_rate_change_points),
            decimal(self.average_score_change_points),
        ]
    }
}

/// A figure with two decimals; empty when null.
fn decimal(value: Option<f64>) -> Cell<'static> {
    Cell::Number(value.map(two_decimals).unwrap_or_default())
}

fn two_decimals(value: f64) -> String {
    format!("{value:.2}")
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CompanyCompliance {
    company_id: Uuid,
    #[serde(flatten)]
    figures: ComplianceFigures,
}

/// One operator code's calls in one company.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OperatorCompliance {
    company_id: Uuid,
    /// As the calls name it; null for calls naming no operator.
    operator_code: Option<String>,
    /// The catalogue's operator with that code, when there is one.
    operator_id: Option<Uuid>,
    operator_name: Option<String>,
    #[serde(flatten)]
    figures: ComplianceFigures,
}

impl From<&OperatorFigures> for OperatorCompliance {
    fn from(o: &OperatorFigures) -> Self {
        Self {
            company_id: o.company_id.as_uuid(),
            operator_code: o.code.clone(),
            operator_id: o.operator.as_ref().map(|op| op.id.as_uuid()),
            operator_name: o.operator.as_ref().map(|op| op.name.clone()),
            figures: (&o.figures).into(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChecklistCompliance {
    checklist_id: Uuid,
    /// From the newest version with verdicts in either period.
    checklist_name: Option<String>,
    #[serde(flatten)]
    figures: ComplianceFigures,
}

/// One checklist item over every version of its checklist (text and criticality from the
/// newest version with verdicts). Only verdicts where the item applied count.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ItemCompliance {
    checklist_id: Uuid,
    checklist_name: Option<String>,
    /// `segment.item`, e.g. `1.2`.
    item_id: String,
    item_text: Option<String>,
    critical: bool,
    applicable_verdicts: u64,
    passed_verdicts: u64,
    failed_verdicts: u64,
    /// Passed over applicable verdicts (0–100); null when the item never applied.
    pass_rate_percent: Option<f64>,
    previous_applicable_verdicts: u64,
    previous_failed_verdicts: u64,
    previous_pass_rate_percent: Option<f64>,
    /// In percentage points; null when the item did not apply in either period.
    pass_rate_change_points: Option<f64>,
}

impl From<&ItemFigures> for ItemCompliance {
    fn from(i: &ItemFigures) -> Self {
        let (now, before) = (&i.verdicts.current, &i.verdicts.previous);
        Self {
            checklist_id: i.checklist_id.as_uuid(),
            checklist_name: i.checklist_name.clone(),
            item_id: i.item_id.clone(),
            item_text: i.text.clone(),
            critical: i.critical,
            applicable_verdicts: now.applicable,
            passed_verdicts: now.passed,
            failed_verdicts: now.failed(),
            pass_rate_percent: now.pass_rate_percent(),
            previous_applicable_verdicts: before.applicable,
            previous_failed_verdicts: before.failed(),
            previous_pass_rate_percent: before.pass_rate_percent(),
            pass_rate_change_points: i.verdicts.pass_rate_change_points(),
        }
    }
}

/// `GET /compliance/metrics`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplianceMetricsResponse {
    period: FigurePeriod,
    /// The same number of days just before `period`.
    previous_period: FigurePeriod,
    overall: ComplianceFigures,
    /// Companies with scored calls in either period.
    companies: Vec<CompanyCompliance>,
    /// Operator codes with scored calls in either period, by company and code.
    operators: Vec<OperatorCompliance>,
    checklists: Vec<ChecklistCompliance>,
    /// Items with verdicts in either period, in checklist order.
    items: Vec<ItemCompliance>,
}

impl From<&ComplianceMetrics> for ComplianceMetricsResponse {
    fn from(m: &ComplianceMetrics) -> Self {
        Self {
            period: (&m.period).into(),
            previous_period: (&m.previous_period).into(),
            overall: (&m.overall).into(),
            companies: m
                .companies
                .iter()
                .map(|c| CompanyCompliance {
                    company_id: c.company_id.as_uuid(),
                    figures: (&c.figures).into(),
                })
                .collect(),
            operators: m.operators.iter().map(Into::into).collect(),
            checklists: m
                .checklists
                .iter()
                .map(|c| ChecklistCompliance {
                    checklist_id: c.checklist_id.as_uuid(),
                    checklist_name: c.name.clone(),
                    figures: (&c.figures).into(),
                })
                .collect(),
            items: m.items.iter().map(Into::into).collect(),
        }
    }
}

/// A failed checklist item on a call.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ViolationResponse {
    record_id: Uuid,
    company_id: Uuid,
    /// When the call happened.
    #[serde(with = "crate::http::timestamp")]
    call_at: OffsetDateTime,
    operator_code: Option<String>,
    /// The catalogue's operator with that code, when there is one.
    operator_id: Option<Uuid>,
    operator_name: Option<String>,
    checklist_id: Uuid,
    /// The name in the version the call was scored with.
    checklist_name: Option<String>,
    checklist_version: i32,
    item_id: String,
    /// The item's text in that version.
    item_text: Option<String>,
    critical: bool,
    /// The quote the reviewer gave for its verdict.
    evidence: String,
    /// Where in the call the evidence is, from its start.
    at_ms: Option<i64>,
}

impl From<Violation> for ViolationResponse {
    fn from(v: Violation) -> Self {
        let row = v.row;
        Self {
            record_id: row.record_id.as_uuid(),
            company_id: row.company_id.as_uuid(),
            call_at: OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(row.call_at_ms) * 1_000_000,
            )
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            operator_code: row.operator_code,
            operator_id: v.operator.as_ref().map(|o| o.id.as_uuid()),
            operator_name: v.operator.map(|o| o.name),
            checklist_id: row.checklist_id.as_uuid(),
            checklist_name: v.checklist_name,
            checklist_version: row.version,
            item_id: row.item_id,
            item_text: v.item_text,
            critical: row.critical,
            evidence: row.evidence,
            at_ms: row.at_ms,
        }
    }
}

fn violations_csv(rows: &[ViolationResponse]) -> CsvTable {
    let mut table = CsvTable::new(&[
        "record_id",
        "call_at",
        "company_id",
        "operator_code",
        "operator_id",
        "operator_name",
        "checklist_id",
        "checklist_name",
        "checklist_version",
        "item_id",
        "item_text",
        "critical",
        "evidence",
        "at_ms",
    ]);
    for v in rows {
        let record_id = v.record_id.to_string();
        let call_at = crate::http::timestamp::format(v.call_at);
        let company_id = v.company_id.to_string();
        let operator_id = v.operator_id.map(|id| id.to_string()).unwrap_or_default();
        let checklist_id = v.checklist_id.to_string();
        table.row([
            Cell::from(record_id.as_str()),
            Cell::from(call_at.as_str()),
            Cell::from(company_id.as_str()),
            Cell::from(v.operator_code.as_deref().unwrap_or("")),
            Cell::from(operator_id.as_str()),
            Cell::from(v.operator_name.as_deref().unwrap_or("")),
            Cell::from(checklist_id.as_str()),
            Cell::from(v.checklist_name.as_deref().unwrap_or("")),
            Cell::number(v.checklist_version),
            Cell::from(v.item_id.as_str()),
            Cell::from(v.item_text.as_deref().unwrap_or("")),
            Cell::from(if v.critical { "true" } else { "false" }),
            Cell::from(v.evidence.as_str()),
            Cell::Number(v.at_ms.map(|ms| ms.to_string()).unwrap_or_default()),
        ]);
    }
    table
}

/// One bucket of an operator's series (every bucket of the period is present).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackingBucket {
    /// The day, or the week's Monday (which may precede the period).
    #[schema(value_type = String, format = Date)]
    start_date: String,
    scored_calls: u64,
    compliant_calls: u64,
    /// Null without scored calls.
    compliance_rate_percent: Option<f64>,
    /// Null without scored calls.
    average_score: Option<f64>,
}

/// An item ranked by its failures in the period.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FailedItemResponse {
    checklist_id: Uuid,
    checklist_name: Option<String>,
    item_id: String,
    item_text: Option<String>,
    critical: bool,
    failures: u64,
    /// Verdicts where the item applied.
    applicable_verdicts: u64,
}

impl From<&FailedItem> for FailedItemResponse {
    fn from(f: &FailedItem) -> Self {
        Self {
            checklist_id: f.checklist_id.as_uuid(),
            checklist_name: f.checklist_name.clone(),
            item_id: f.item_id.clone(),
            item_text: f.text.clone(),
            critical: f.critical,
            failures: f.failures,
            applicable_verdicts: f.applicable,
        }
    }
}

/// `GET /compliance/tracking/{operator_id}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OperatorTrackingResponse {
    operator_id: Uuid,
    company_id: Uuid,
    operator_code: String,
    operator_name: String,
    period: FigurePeriod,
    granularity: TrackingGranularity,
    buckets: Vec<TrackingBucket>,
    /// The operator's five most-failed items in the period, most failures first.
    most_failed_items: Vec<FailedItemResponse>,
}

impl From<OperatorTracking> for OperatorTrackingResponse {
    fn from(t: OperatorTracking) -> Self {
        Self {
            operator_id: t.operator.id.as_uuid(),
            company_id: t.operator.key.company_id.as_uuid(),
            operator_code: t.operator.key.code,
            operator_name: t.operator.name,
            period: (&t.period).into(),
            granularity: match t.granularity {
                Granularity::Week => TrackingGranularity::Week,
                _ => TrackingGranularity::Day,
            },
            buckets: t
                .series
                .iter()
                .map(|(bucket, tally)| TrackingBucket {
                    start_date: bucket.start_date.to_string(),
                    scored_calls: tally.scored_calls,
                    compliant_calls: tally.compliant_calls,
                    compliance_rate_percent: tally.compliance_rate_percent(),
                    average_score: tally.average_score(),
                })
                .collect(),
            most_failed_items: t.most_failed.iter().map(Into::into).collect(),
        }
    }
}

/// The report's headline figures.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportSummaryResponse {
    #[serde(flatten)]
    figures: ComplianceFigures,
    /// Failed item verdicts in the period.
    violations: u64,
    /// Failed verdicts on critical items.
    critical_violations: u64,
}

/// `POST /compliance/reports` as JSON; CSV and PDF carry the same figures.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplianceReportResponse {
    title: String,
    period: FigurePeriod,
    previous_period: FigurePeriod,
    summary: ReportSummaryResponse,
    /// Operator codes with scored calls in either period, by company and code.
    operators: Vec<OperatorCompliance>,
    /// The ten most-failed items, most failures first.
    top_violations: Vec<FailedItemResponse>,
}

const REPORT_TITLE: &str = "Compliance report";

impl From<&ComplianceReport> for ComplianceReportResponse {
    fn from(r: &ComplianceReport) -> Self {
        Self {
            title: REPORT_TITLE.to_owned(),
            period: (&r.period).into(),
            previous_period: (&r.previous_period).into(),
            summary: ReportSummaryResponse {
                figures: (&r.summary.calls).into(),
                violations: r.summary.violations,
                critical_violations: r.summary.critical_violations,
            },
            operators: r.operators.iter().map(Into::into).collect(),
            top_violations: r.top_violations.iter().map(Into::into).collect(),
        }
    }
}

impl ComplianceReportResponse {
    fn new(report: &ComplianceReport) -> (Self, Period, Period) {
        (
            report.into(),
            report.period.clone(),
            report.previous_period.clone(),
        )
    }

    /// Three blocks, each a title line, a header and its rows, separated by a blank line:
    /// `summary`, `operators`, `top_violations`.
    fn csv(&self, p: &Period) -> CsvTable {
        let mut table = CsvTable::new(&["summary"]);
        let header = |table: &mut CsvTable, names: &[&str]| {
            table.row(names.iter().map(|n| Cell::Text(n)));
        };
        let mut summary = vec!["start_date", "end_date", "timezone"];
        summary.extend(FIGURE_HEADER);
        summary.extend(["violations", "critical_violations"]);
        header(&mut table, &summary);
        let (start, end) = (p.start_date.to_string(), p.end_date.to_string());
        let mut cells = vec![
            Cell::from(start.as_str()),
            Cell::from(end.as_str()),
            Cell::from(p.timezone.as_str()),
        ];
        cells.extend(self.summary.figures.cells());
        cells.extend([
            Cell::number(self.summary.violations),
            Cell::number(self.summary.critical_violations),
        ]);
        table.row(cells);

        table.row([]);
        table.row([Cell::from("operators")]);
        let mut operators = vec![
            "company_id",
            "operator_code",
            "operator_id",
            "operator_name",
        ];
        operators.extend(FIGURE_HEADER);
        header(&mut table, &operators);
        for o in &self.operators {
            let company = o.company_id.to_string();
            let id = o.operator_id.map(|id| id.to_string()).unwrap_or_default();
            let mut cells = vec![
                Cell::from(company.as_str()),
                Cell::from(o.operator_code.as_deref().unwrap_or("")),
                Cell::from(id.as_str()),
                Cell::from(o.operator_name.as_deref().unwrap_or("")),
            ];
            cells.extend(o.figures.cells());
            table.row(cells);
        }

        table.row([]);
        table.row([Cell::from("top_violations")]);
        header(
            &mut table,
            &[
                "checklist_id",
                "checklist_name",
                "item_id",
                "item_text",
                "critical",
                "failures",
                "applicable_verdicts",
            ],
        );
        for f in &self.top_violations {
            let checklist = f.checklist_id.to_string();
            table.row([
                Cell::from(checklist.as_str()),
                Cell::from(f.checklist_name.as_deref().unwrap_or("")),
                Cell::from(f.item_id.as_str()),
                Cell::from(f.item_text.as_deref().unwrap_or("")),
                Cell::from(if f.critical { "true" } else { "false" }),
                Cell::number(f.failures),
                Cell::number(f.applicable_verdicts),
            ]);
        }
        table
    }

    /// The same figures as a printable document (numbers as the CSV writes them).
    fn document(&self, p: &Period, before: &Period) -> Document {
        let shown = |value: Option<f64>, unit: &str| {
            value.map_or_else(|| "-".to_owned(), |v| format!("{}{unit}", two_decimals(v)))
        };
        let f = &self.summary.figures;
        let summary = Section::new("Summary")
            .line("Scored calls", f.scored_calls.to_string())
            .line("Compliant calls", f.compliant_calls.to_string())
            .line("Compliance rate", shown(f.compliance_rate_percent, "%"))
            .line("Average score", shown(f.average_score, ""))
            .line("Previous scored calls", f.previous_scored_calls.to_string())
            .line(
                "Previous compliance rate",
                shown(f.previous_compliance_rate_percent, "%"),
            )
            .line(
                "Previous average score",
                shown(f.previous_average_score, ""),
            )
            .line(
                "Compliance rate change",
                shown(f.compliance_rate_change_points, " pp"),
            )
            .line(
                "Average score change",
                shown(f.average_score_change_points, ""),
            )
            .line("Violations", self.summary.violations.to_string())
            .line(
                "Critical violations",
                self.summary.critical_violations.to_string(),
            );
        let operators = self.operators.iter().fold(
            Table::new(vec![
                Column::left("Operator", 3.0),
                Column::left("Code", 1.2),
                Column::right("Scored calls", 1.2),
                Column::right("Compliant", 1.2),
                Column::right("Compliance rate", 1.5),
                Column::right("Average score", 1.4),
                Column::right("Rate change", 1.3),
            ]),
            |table, o| {
                let g = &o.figures;
                table.row([
                    o.operator_name.clone().unwrap_or_else(|| "-".to_owned()),
                    o.operator_code.clone().unwrap_or_else(|| "-".to_owned()),
                    g.scored_calls.to_string(),
                    g.compliant_calls.to_string(),
                    shown(g.compliance_rate_percent, "%"),
                    shown(g.average_score, ""),
                    shown(g.compliance_rate_change_points, " pp"),
                ])
            },
        );
        let failed = self.top_violations.iter().fold(
            Table::new(vec![
                Column::left("Checklist", 2.0),
                Column::left("Item", 0.8),
                Column::left("Text", 4.0),
                Column::left("Critical", 1.0),
                Column::right("Failures", 1.0),
                Column::right("Applicable", 1.1),
            ])
            .when_empty("No failed items in this period."),
            |table, v| {
                table.row([
                    v.checklist_name.clone().unwrap_or_else(|| "-".to_owned()),
                    v.item_id.clone(),
                    v.item_text.clone().unwrap_or_default(),
                    if v.critical { "yes" } else { "no" }.to_owned(),
                    v.failures.to_string(),
                    v.applicable_verdicts.to_string(),
                ])
            },
        );
        Document::new(&self.title)
            .subtitle(format!(
                "Period: {} to {} ({})",
                p.start_date, p.end_date, p.timezone
            ))
            .subtitle(format!(
                "Compared with: {} to {}",
                before.start_date, before.end_date
            ))
            .section(summary)
            .section(Section::new("Operators").table(operators))
            .section(Section::new("Top violations").table(failed))
    }
}

impl MetricsQuery {
    fn parse(&self) -> Result<ComplianceRequest, ApiError> {
        let mut values = QueryValues::default();
        let figures = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        let operator = values
            .uuid("operator_id", self.operator_id.as_deref())
            .map(OperatorId::from_uuid);
        let checklist_id = values
            .uuid("checklist_id", self.checklist_id.as_deref())
            .map(ChecklistId::from_uuid);
        values.finish()?;
        let request = ComplianceRequest {
            figures,
            operator_ids: operator.into_iter().collect(),
            checklist_id,
        };
        Ok(request)
    }
}

impl ViolationsQuery {
    /// The filter, the answer's format and (for JSON) the page.
    fn parse(
        &self,
    ) -> Result<(ViolationsRequest, ExportFormat, dialix_kernel::PageRequest), ApiError> {
        let mut values = QueryValues::default();
        let figures = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        let operator_id = values
            .uuid("operator_id", self.operator_id.as_deref())
            .map(OperatorId::from_uuid);
        let checklist_id = values
            .uuid("checklist_id", self.checklist_id.as_deref())
            .map(ChecklistId::from_uuid);
        let item_id = self
            .item_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        if item_id.as_ref().is_some_and(|id| id.len() > MAX_ITEM_ID) {
            values.errors.add(
                "item_id",
                format!("must be at most {MAX_ITEM_ID} characters"),
            );
        }
        let critical_only = values
            .boolean("critical_only", self.critical_only.as_deref())
            .unwrap_or(false);
        let format = ExportFormat::parse(&mut values, self.format.as_deref());
        let page = values.page(self.limit.as_deref(), self.offset.as_deref());
        values.finish()?;
        let request = ViolationsRequest {
            figures,
            operator_id,
            checklist_id,
            item_id,
            critical_only,
        };
        Ok((request, format, page))
    }
}

impl TrackingQuery {
    fn parse(&self, operator_id: OperatorId) -> Result<TrackingRequest, ApiError> {
        let mut values = QueryValues::default();
        let figures = figure_request(
            &mut values,
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            self.company_id.as_deref(),
        );
        let granularity = values
            .choice(
                "granularity",
                self.granularity.as_deref(),
                |name| match name {
                    "day" => Some(Granularity::Day),
                    "week" => Some(Granularity::Week),
                    _ => None,
                },
                &["day", "week"],
            )
            .unwrap_or_default();
        values.finish()?;
        let request = TrackingRequest {
            figures,
            operator_id,
            granularity,
        };
        Ok(request)
    }
}

impl ReportBody {
    fn parse(&self) -> Result<(ComplianceRequest, ReportFormat), ApiError> {
        let mut values = QueryValues::default();
        let figures = FigureRequest {
            start_date: values.calendar_date("start_date", self.start_date.as_deref()),
            end_date: values.calendar_date("end_date", self.end_date.as_deref()),
            company_id: self.company_id.map(dialix_kernel::CompanyId::from_uuid),
        };
        let operator_ids: Vec<OperatorId> = self
            .operator_ids
            .iter()
            .flatten()
            .map(|id| OperatorId::from_uuid(*id))
            .collect();
        if operator_ids.len() > MAX_REPORT_OPERATORS {
            values.errors.add(
                "operator_ids",
                format!("may name at most {MAX_REPORT_OPERATORS} operators"),
            );
        }
        let format = values
            .choice(
                "format",
                self.format.as_deref(),
                |name| match name {
                    "json" => Some(ReportFormat::Json),
                    "csv" => Some(ReportFormat::Csv),
                    "pdf" => Some(ReportFormat::Pdf),
                    _ => None,
                },
                &["json", "csv", "pdf"],
            )
            .unwrap_or(ReportFormat::Json);
        values.finish()?;
        let request = ComplianceRequest {
            figures,
            operator_ids,
            checklist_id: self.checklist_id.map(ChecklistId::from_uuid),
        };
        Ok((request, format))
    }
}

/// Compliance rate and average score — overall, per company, operator, checklist and item —
/// with the change against the previous period of the same length.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(MetricsQuery),
    responses(
        (status = 200, description = "Compliance figures", body = ComplianceMetricsResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company or operator outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period or ids", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/compliance/metrics")]
pub async fn compliance_metrics(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<MetricsQuery>,
) -> Result<web::Json<ComplianceMetricsResponse>, ApiError> {
    let request = query.parse()?;
    let metrics = state.compliance.metrics(&caller.actor, &request).await?;
    Ok(web::Json((&metrics).into()))
}

/// Failed checklist items on calls, newest call first: the call, its operator, the checklist
/// version, the item, the evidence quote and where it is in the call.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(ViolationsQuery),
    responses(
        (status = 200, description = "A page of violations (or, with format=csv, every match up to 10,000 rows, newest first)",
            content((PageOf<ViolationResponse> = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company or operator outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters, dates, paging or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/compliance/violations")]
pub async fn list_violations(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ViolationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (request, format, page) = query.parse()?;
    let compliance = &state.compliance;
    match format {
        ExportFormat::Json => {
            let (_, found) = compliance.violations(&caller.actor, &request, page).await?;
            Ok(HttpResponse::Ok().json(PageOf::from_page(found, ViolationResponse::from)))
        }
        ExportFormat::Csv => {
            let (_, found) = compliance
                .violations_export(&caller.actor, &request)
                .await?;
            let rows: Vec<ViolationResponse> = found.items.into_iter().map(Into::into).collect();
            Ok(violations_csv(&rows).into_response("violations.csv"))
        }
    }
}

/// One operator's daily or weekly scored calls, average score and compliance rate (every
/// bucket of the period, empty ones with 0 calls and null averages), and their five
/// most-failed items.
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    params(("operator_id" = Uuid, Path, description = "The operator"), TrackingQuery),
    responses(
        (status = 200, description = "The operator's series", body = OperatorTrackingResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operator in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period or granularity", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/compliance/tracking/{operator_id}")]
pub async fn operator_tracking(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<OperatorId>,
    query: web::Query<TrackingQuery>,
) -> Result<web::Json<OperatorTrackingResponse>, ApiError> {
    let request = query.parse(path.into_inner())?;
    let tracking = state.compliance.tracking(&caller.actor, &request).await?;
    Ok(web::Json(tracking.into()))
}

/// A compliance report for a period: summary figures (with the change against the previous
/// period), a per-operator table and the most-failed items — the metrics' figures, as JSON,
/// CSV (three blocks: `summary`, `operators`, `top_violations`, each a title line, a header
/// and rows, separated by blank lines) or PDF (the same figures as tables).
#[utoipa::path(
    tag = "compliance",
    security(("bearer" = [])),
    request_body = ReportBody,
    responses(
        (status = 200, description = "The report in the requested format",
            content((ComplianceReportResponse = "application/json"), (String = "text/csv"), (ReportPdf = "application/pdf"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company or operator outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid dates, period, ids or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/compliance/reports")]
pub async fn create_report(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<ReportBody>,
) -> Result<HttpResponse, ApiError> {
    let (request, format) = body.parse()?;
    let report = state.compliance.report(&caller.actor, &request).await?;
    let (report, period, previous) = ComplianceReportResponse::new(&report);
    Ok(match format {
        ReportFormat::Json => HttpResponse::Ok().json(report),
        ReportFormat::Csv => report.csv(&period).into_response("compliance-report.csv"),
        ReportFormat::Pdf => {
            let pdf = render_pdf(&report.document(&period, &previous))
                .map_err(|e| dialix_kernel::DomainError::internal(e.to_string()))?;
            HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((
                    actix_web::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"compliance-report.pdf\"",
                ))
                .body(pdf)
        }
    })
}
