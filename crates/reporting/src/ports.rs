//! The read models reporting needs. Every method takes the [`FigureScope`] and a UTC range
//! `[from_ms, to_ms)`; series come back per [`crate::SLOT_MS`] slot (`call_at / SLOT_MS`) and
//! are bucketed by the service.

use crate::FigureScope;

// ---- Compliance dashboard -------------------------------------------------------------
// Paths are written out in this block so it shares no `use` line with the other areas.

/// An operator as calls name them: a code within a company.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperatorKey {
    pub company_id: dialix_kernel::CompanyId,
    pub code: String,
}

/// An operator of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRef {
    pub id: dialix_kernel::OperatorId,
    pub key: OperatorKey,
    pub name: String,
}

/// Which scored calls a compliance figure counts, beyond scope and period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceFilter {
    /// Only these operators' calls; empty: every call.
    pub operators: Vec<OperatorKey>,
    pub checklist: Option<dialix_kernel::ChecklistId>,
}

/// Which failed verdicts the violations listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViolationFilter {
    pub calls: ComplianceFilter,
    pub item_id: Option<String>,
    pub critical_only: bool,
}

/// Scored calls (`record.checklist_score` set) of one company, operator code and checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredGroup {
    pub company_id: dialix_kernel::CompanyId,
    pub operator_code: Option<String>,
    pub checklist_id: Option<dialix_kernel::ChecklistId>,
    pub calls: u64,
    /// Calls with `checklist_compliant = true`.
    pub compliant: u64,
    pub score_sum: f64,
}

/// Scored calls of one [`crate::SLOT_MS`] slot (`call_at / SLOT_MS`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSlot {
    pub slot: i64,
    pub calls: u64,
    pub compliant: u64,
    pub score_sum: f64,
}

/// The verdicts on one item of one checklist version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTally {
    pub checklist_id: dialix_kernel::ChecklistId,
    pub version: i32,
    pub item_id: String,
    pub critical: bool,
    /// Verdicts where the item applied (`passed` not null).
    pub applicable: u64,
    pub passed: u64,
}

/// One failed verdict with its call's operator code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationRow {
    pub record_id: dialix_kernel::RecordId,
    pub company_id: dialix_kernel::CompanyId,
    pub call_at_ms: i64,
    pub operator_code: Option<String>,
    pub checklist_id: dialix_kernel::ChecklistId,
    pub version: i32,
    pub item_id: String,
    pub critical: bool,
    pub evidence: String,
    pub at_ms: Option<i64>,
}

/// A checklist version's name and items, in the checklist's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistVersionText {
    pub checklist_id: dialix_kernel::ChecklistId,
    pub version: i32,
    pub name: String,
    pub items: Vec<ChecklistItemText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItemText {
    pub id: String,
    pub text: String,
    pub critical: bool,
}

/// The compliance dashboard's read model: scored calls from `record`, item verdicts from
/// `checklist_verdict`, names from the catalogue. Ranges are `[from_ms, to_ms)` of call time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait::async_trait]
pub trait ComplianceFigures: Send + Sync {
    /// Scored calls per company, operator code and checklist.
    async fn scored_calls(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        from_ms: i64,
        to_ms: i64,
    ) -> dialix_kernel::DomainResult<Vec<ScoredGroup>>;

    /// Scored calls per slot (only slots with calls).
    async fn scored_slots(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        from_ms: i64,
        to_ms: i64,
    ) -> dialix_kernel::DomainResult<Vec<ScoredSlot>>;

    /// Verdicts per checklist version and item.
    async fn item_tallies(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        from_ms: i64,
        to_ms: i64,
    ) -> dialix_kernel::DomainResult<Vec<ItemTally>>;

    /// Failed verdicts, newest call first (then record and item id), with the count of all.
    async fn violations(
        &self,
        scope: &FigureScope,
        filter: &ViolationFilter,
        from_ms: i64,
        to_ms: i64,
        page: dialix_kernel::PageRequest,
    ) -> dialix_kernel::DomainResult<dialix_kernel::Page<ViolationRow>>;

    /// An operator by id; `None` when there is none.
    async fn operator(
        &self,
        id: dialix_kernel::OperatorId,
    ) -> dialix_kernel::DomainResult<Option<OperatorRef>>;

    /// The catalogue's operators among `keys` (codes without an operator are left out).
    async fn operators_by_code(
        &self,
        keys: &[OperatorKey],
    ) -> dialix_kernel::DomainResult<Vec<OperatorRef>>;

    /// These checklist versions' names and items (missing ones are left out).
    async fn checklist_versions(
        &self,
        keys: &[(dialix_kernel::ChecklistId, i32)],
    ) -> dialix_kernel::DomainResult<Vec<ChecklistVersionText>>;
}

/// Usage statistics: aggregates over live records (by `call_at`) and ledger entries (by
/// `created_at`) of the scope; a few grouped rows, never a row per call.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait::async_trait]
pub trait UsageFigures: Send + Sync {
    /// The calls that happened in `[from_ms, to_ms)`.
    async fn calls(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
    ) -> dialix_kernel::DomainResult<crate::CallTotals>;

    /// The same calls per slot (slots without calls are absent).
    async fn calls_by_slot(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
    ) -> dialix_kernel::DomainResult<Vec<crate::SlotCalls>>;

    /// Charges made in `[from_ms, to_ms)`, per group and kind, as positive amounts.
    async fn spend(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
        grouping: crate::SpendGrouping,
    ) -> dialix_kernel::DomainResult<Vec<crate::SpendRow>>;

    /// Top-ups made in `[from_ms, to_ms)`, per company and slot.
    async fn topups(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
    ) -> dialix_kernel::DomainResult<Vec<crate::TopUpRow>>;
}

// ---- Dashboard -------------------------------------------------------------------------

/// The dashboard's read model: grouped rows over the scope's live records whose call
/// happened in `[from_ms, to_ms)`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait::async_trait]
pub trait DashboardFigures: Send + Sync {
    /// Calls per slot, per combination of sentiments and satisfaction, per call purpose and
    /// per operator code, and the repeat calls by `rule` (earlier calls up to `rule`'s window
    /// before `from_ms` count as what a call may repeat).
    async fn dashboard(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
        rule: crate::RepeatRule,
    ) -> dialix_kernel::DomainResult<crate::DashboardRows>;
}
