//! Usage statistics, the dashboard and the compliance dashboard: read models over calls,
//! checklist verdicts and the ledger.
//!
//! Every figure starts from [`Framing::frame`] (whose rows, which period, in the caller's time
//! zone); series are cut by [`Period::buckets`] from the UTC slots adapters group by.

mod arithmetic;
mod compliance;
mod dashboard;
mod period;
mod ports;
mod scope;
mod usage;

pub use arithmetic::{minutes, percent, round2};
pub use compliance::{
    ChecklistFigures, CompanyFigures, Compared, ComplianceMetrics, CompliancePorts,
    ComplianceReport, ComplianceRequest, ComplianceService, FailedItem, ItemCount, ItemFigures,
    MAX_VIOLATIONS_EXPORT, OperatorFigures, OperatorTracking, REPORT_TOP_ITEMS, ReportSummary,
    TRACKING_TOP_ITEMS, Tally, TrackingRequest, Violation, ViolationsRequest,
};
pub use dashboard::{
    AnalysisMix, CallVolume, Dashboard, DashboardPorts, DashboardRows, DashboardService, DayVolume,
    Distribution, OperatorPerformance, OperatorTotals, PurposeCount, PurposeShare,
    REPEAT_WINDOW_MS, RepeatCalls, RepeatCounts, RepeatRule, Satisfaction, Sentiment, SlotVolume,
    TRANSFER_GAP_MS,
};
pub use period::{
    Bucket, Buckets, DEFAULT_PERIOD_DAYS, Granularity, MAX_PERIOD_DAYS, Period, SLOT_MS,
};
pub use ports::*;
pub use scope::{FigureRequest, FigureScope, Framing, require_platform_admin};
pub use usage::{
    CallTotals, CompanyRevenue, ExpenseGrouping, ExpenseKey, ExpenseRow, Expenses, Revenue,
    RevenuePoint, SlotCalls, Spend, SpendGrouping, SpendKey, SpendRow, TopUpRow, TrendPoint,
    Trends, Usage, UsagePorts, UsageService,
};
