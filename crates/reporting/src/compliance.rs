//! The compliance dashboard: how well operators follow their checklists.
//!
//! Every figure comes from three port methods — scored calls per company, operator and
//! checklist; scored calls per slot; verdicts per item — so metrics, tracking and reports
//! compute each number one way. A call is compliant when `record.checklist_compliant` is true
//! (no failed critical item, score at or above the version's pass mark); rates and averages of
//! no calls are `None`, and so is a change against a previous period without scored calls.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use dialix_kernel::{
    Actor, ChecklistId, CompanyId, DomainError, DomainResult, OperatorId, Page, PageRequest,
};

use crate::{
    Bucket, ChecklistVersionText, ComplianceFigures, ComplianceFilter, FigureRequest, FigureScope,
    Framing, Granularity, ItemTally, OperatorKey, OperatorRef, Period, ViolationFilter,
    ViolationRow, percent, round2,
};

/// The most rows a violations export carries: the newest ones (the JSON listing pages
/// through all of them).
pub const MAX_VIOLATIONS_EXPORT: u64 = 10_000;
/// Most-failed items on an operator's tracking.
pub const TRACKING_TOP_ITEMS: usize = 5;
/// Most-failed items in a report.
pub const REPORT_TOP_ITEMS: usize = 10;

pub struct CompliancePorts {
    pub framing: Framing,
    pub figures: Arc<dyn ComplianceFigures>,
}

pub struct ComplianceService {
    framing: Framing,
    figures: Arc<dyn ComplianceFigures>,
}

/// Which calls metrics and reports cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceRequest {
    pub figures: FigureRequest,
    /// Only these operators' calls; empty: every call in scope.
    pub operator_ids: Vec<OperatorId>,
    pub checklist_id: Option<ChecklistId>,
}

/// Which failed verdicts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViolationsRequest {
    pub figures: FigureRequest,
    pub operator_id: Option<OperatorId>,
    pub checklist_id: Option<ChecklistId>,
    pub item_id: Option<String>,
    pub critical_only: bool,
}

/// One operator's series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRequest {
    pub figures: FigureRequest,
    pub operator_id: OperatorId,
    pub granularity: Granularity,
}

/// Scored calls counted together.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub scored_calls: u64,
    pub compliant_calls: u64,
    pub score_sum: f64,
}

impl Tally {
    fn add(&mut self, calls: u64, compliant: u64, score_sum: f64) {
        self.scored_calls += calls;
        self.compliant_calls += compliant;
        self.score_sum += score_sum;
    }

    /// Compliant over scored calls, 0–100; `None` without scored calls.
    pub fn compliance_rate_percent(&self) -> Option<f64> {
        percent(self.compliant_calls, self.scored_calls)
    }

    /// The mean checklist score, 0–100; `None` without scored calls.
    pub fn average_score(&self) -> Option<f64> {
        (self.scored_calls > 0).then(|| round2(self.score_sum / self.scored_calls as f64))
    }
}

/// One item's verdicts: applicable ones (the item applied to the call) and passed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemCount {
    pub applicable: u64,
    pub passed: u64,
}

impl ItemCount {
    pub fn failed(&self) -> u64 {
        self.applicable.saturating_sub(self.passed)
    }

    /// Passed over applicable verdicts, 0–100; `None` when the item never applied.
    pub fn pass_rate_percent(&self) -> Option<f64> {
        percent(self.passed, self.applicable)
    }
}

/// A figure in the period asked for and in the previous period of the same length.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Compared<T> {
    pub current: T,
    pub previous: T,
}

impl Compared<Tally> {
    /// Percentage points; `None` when either period has no scored calls.
    pub fn compliance_rate_change_points(&self) -> Option<f64> {
        change(
            self.current.compliance_rate_percent(),
            self.previous.compliance_rate_percent(),
        )
    }

    /// Score points; `None` when either period has no scored calls.
    pub fn average_score_change_points(&self) -> Option<f64> {
        change(self.current.average_score(), self.previous.average_score())
    }
}

impl Compared<ItemCount> {
    /// Percentage points; `None` when the item did not apply in either period.
    pub fn pass_rate_change_points(&self) -> Option<f64> {
        change(
            self.current.pass_rate_percent(),
            self.previous.pass_rate_percent(),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompanyFigures {
    pub company_id: CompanyId,
    pub figures: Compared<Tally>,
}

/// The calls of one operator code in one company (`code` `None`: calls naming no operator).
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorFigures {
    pub company_id: CompanyId,
    pub code: Option<String>,
    /// The catalogue's operator of that code, when there is one.
    pub operator: Option<OperatorRef>,
    pub figures: Compared<Tally>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistFigures {
    pub checklist_id: ChecklistId,
    /// From the newest version with verdicts in either period.
    pub name: Option<String>,
    pub figures: Compared<Tally>,
}

/// One checklist item over every version of its checklist; text and criticality from the
/// newest version with verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFigures {
    pub checklist_id: ChecklistId,
    pub checklist_name: Option<String>,
    pub item_id: String,
    pub text: Option<String>,
    pub critical: bool,
    pub verdicts: Compared<ItemCount>,
}

/// An item ranked by its failures in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedItem {
    pub checklist_id: ChecklistId,
    pub checklist_name: Option<String>,
    pub item_id: String,
    pub text: Option<String>,
    pub critical: bool,
    pub failures: u64,
    pub applicable: u64,
}

/// `GET /compliance/metrics`.
#[derive(Debug, Clone)]
pub struct ComplianceMetrics {
    pub period: Period,
    pub previous_period: Period,
    pub overall: Compared<Tally>,
    pub companies: Vec<CompanyFigures>,
    pub operators: Vec<OperatorFigures>,
    pub checklists: Vec<ChecklistFigures>,
    pub items: Vec<ItemFigures>,
}

/// One failed verdict, with the names that go with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub row: ViolationRow,
    pub operator: Option<OperatorRef>,
    /// The name and item text of the verdict's own checklist version.
    pub checklist_name: Option<String>,
    pub item_text: Option<String>,
}

/// One operator's score and compliance over time.
#[derive(Debug, Clone)]
pub struct OperatorTracking {
    pub operator: OperatorRef,
    pub period: Period,
    pub granularity: Granularity,
    /// Every bucket of the period, empty ones too.
    pub series: Vec<(Bucket, Tally)>,
    pub most_failed: Vec<FailedItem>,
}

/// `POST /compliance/reports`: the metrics' figures, summarised.
#[derive(Debug, Clone)]
pub struct ComplianceReport {
    pub period: Period,
    pub previous_period: Period,
    pub summary: ReportSummary,
    pub operators: Vec<OperatorFigures>,
    pub top_violations: Vec<FailedItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    pub calls: Compared<Tally>,
    /// Failed verdicts in the period.
    pub violations: u64,
    /// Failed verdicts on critical items.
    pub critical_violations: u64,
}

impl ComplianceService {
    pub fn new(ports: CompliancePorts) -> Self {
        Self {
            framing: ports.framing,
            figures: ports.figures,
        }
    }

    /// Compliance now and in the previous period, overall and per company, operator,
    /// checklist and item.
    pub async fn metrics(
        &self,
        actor: &Actor,
        request: &ComplianceRequest,
    ) -> DomainResult<ComplianceMetrics> {
        let (scope, period) = self.framing.frame(actor, &request.figures).await?;
        let mut operators = Vec::with_capacity(request.operator_ids.len());
        for id in &request.operator_ids {
            operators.push(self.visible_operator(actor, &scope, *id).await?.key);
        }
        let filter = ComplianceFilter {
            operators,
            checklist: request.checklist_id,
        };
        self.figures_of(&scope, &filter, period).await
    }

    /// The metrics as a report: summary, operator table, most-failed items.
    pub async fn report(
        &self,
        actor: &Actor,
        request: &ComplianceRequest,
    ) -> DomainResult<ComplianceReport> {
        let metrics = self.metrics(actor, request).await?;
        let summary = ReportSummary {
            calls: metrics.overall,
            violations: metrics
                .items
                .iter()
                .map(|i| i.verdicts.current.failed())
                .sum(),
            critical_violations: metrics
                .items
                .iter()
                .filter(|i| i.critical)
                .map(|i| i.verdicts.current.failed())
                .sum(),
        };
        Ok(ComplianceReport {
            top_violations: most_failed(&metrics.items, REPORT_TOP_ITEMS),
            period: metrics.period,
            previous_period: metrics.previous_period,
            summary,
            operators: metrics.operators,
        })
    }

    /// A page of failed verdicts, newest call first.
    pub async fn violations(
        &self,
        actor: &Actor,
        request: &ViolationsRequest,
        page: PageRequest,
    ) -> DomainResult<(Period, Page<Violation>)> {
        let (scope, period) = self.framing.frame(actor, &request.figures).await?;
        let operators = match request.operator_id {
            Some(id) => vec![self.visible_operator(actor, &scope, id).await?.key],
            None => Vec::new(),
        };
        let filter = ViolationFilter {
            calls: ComplianceFilter {
                operators,
                checklist: request.checklist_id,
            },
            item_id: request.item_id.clone(),
            critical_only: request.critical_only,
        };
        let rows = self
            .figures
            .violations(&scope, &filter, period.start_ms(), period.end_ms(), page)
            .await?;
        let keys: BTreeSet<OperatorKey> = rows
            .items
            .iter()
            .filter_map(|r| operator_key(r.company_id, r.operator_code.as_deref()))
            .collect();
        let operators = self.operators(keys).await?;
        let versions: BTreeSet<(ChecklistId, i32)> = rows
            .items
            .iter()
            .map(|r| (r.checklist_id, r.version))
            .collect();
        let texts = self.versions(versions).await?;
        let page = rows.map(|row| {
            let version = texts.get(&(row.checklist_id, row.version));
            Violation {
                operator: operator_key(row.company_id, row.operator_code.as_deref())
                    .and_then(|key| operators.get(&key).cloned()),
                checklist_name: version.map(|v| v.name.clone()),
                item_text: version.and_then(|v| item_text(v, &row.item_id)),
                row,
            }
        });
        Ok((period, page))
    }

    /// Every failed verdict up to [`MAX_VIOLATIONS_EXPORT`], newest first.
    pub async fn violations_export(
        &self,
        actor: &Actor,
        request: &ViolationsRequest,
    ) -> DomainResult<(Period, Page<Violation>)> {
        let all = PageRequest {
            limit: MAX_VIOLATIONS_EXPORT,
            offset: 0,
        };
        self.violations(actor, request, all).await
    }

    /// One operator's series per day or week, with their most-failed items. 404 for an
    /// operator outside the caller's scope.
    pub async fn tracking(
        &self,
        actor: &Actor,
        request: &TrackingRequest,
    ) -> DomainResult<OperatorTracking> {
        let (scope, period) = self.framing.frame(actor, &request.figures).await?;
        let operator = self
            .visible_operator(actor, &scope, request.operator_id)
            .await?;
        let filter = ComplianceFilter {
            operators: vec![operator.key.clone()],
            checklist: None,
        };
        let (from, to) = (period.start_ms(), period.end_ms());
        let buckets = period.buckets(request.granularity);
        let mut series: Vec<(Bucket, Tally)> = buckets
            .items
            .iter()
            .map(|b| (*b, Tally::default()))
            .collect();
        for slot in self.figures.scored_slots(&scope, &filter, from, to).await? {
            if let Some(i) = buckets.index_of_slot(slot.slot) {
                series[i].1.add(slot.calls, slot.compliant, slot.score_sum);
            }
        }
        let tallies = self.figures.item_tallies(&scope, &filter, from, to).await?;
        let items = self.items(tallies, Vec::new()).await?;
        Ok(OperatorTracking {
            operator,
            granularity: request.granularity,
            series,
            most_failed: most_failed(&items, TRACKING_TOP_ITEMS),
            period,
        })
    }

    /// The operator, if the scope may name it: any for platform admins, their companies' for
    /// administrators, their own company's for everyone else (whose figures stay their own
    /// calls).
    async fn visible_operator(
        &self,
        actor: &Actor,
        scope: &FigureScope,
        id: OperatorId,
    ) -> DomainResult<OperatorRef> {
        let operator = self.figures.operator(id).await?;
        operator
            .filter(|o| match scope {
                FigureScope::All => true,
                FigureScope::Companies(companies) => companies.contains(&o.key.company_id),
                FigureScope::Owner(_) => actor.company_id == Some(o.key.company_id),
            })
            .ok_or(DomainError::NotFound("operator"))
    }

    async fn figures_of(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        period: Period,
    ) -> DomainResult<ComplianceMetrics> {
        let previous_period = period.previous();
        let now = (period.start_ms(), period.end_ms());
        let before = (previous_period.start_ms(), previous_period.end_ms());
        let figures = &self.figures;
        let groups = [
            figures.scored_calls(scope, filter, now.0, now.1).await?,
            figures
                .scored_calls(scope, filter, before.0, before.1)
                .await?,
        ];
        let tallies_now = figures.item_tallies(scope, filter, now.0, now.1).await?;
        let tallies_before = figures
            .item_tallies(scope, filter, before.0, before.1)
            .await?;

        let mut overall = Compared::<Tally>::default();
        let mut companies = BTreeMap::<CompanyId, Compared<Tally>>::new();
        let mut operators = BTreeMap::<(CompanyId, Option<String>), Compared<Tally>>::new();
        let mut checklists = BTreeMap::<ChecklistId, Compared<Tally>>::new();
        for (previous, rows) in [false, true].into_iter().zip(groups) {
            for g in rows {
                let add = |c: &mut Compared<Tally>| {
                    let side = if previous {
                        &mut c.previous
                    } else {
                        &mut c.current
                    };
                    side.add(g.calls, g.compliant, g.score_sum);
                };
                add(&mut overall);
                add(companies.entry(g.company_id).or_default());
                add(operators
                    .entry((g.company_id, g.operator_code.clone()))
                    .or_default());
                if let Some(checklist) = g.checklist_id {
                    add(checklists.entry(checklist).or_default());
                }
            }
        }
        let items = self.items(tallies_now, tallies_before).await?;
        let names: BTreeMap<ChecklistId, Option<String>> = items
            .iter()
            .map(|i| (i.checklist_id, i.checklist_name.clone()))
            .collect();
        let known = self
            .operators(
                operators
                    .keys()
                    .filter_map(|(company, code)| operator_key(*company, code.as_deref()))
                    .collect(),
            )
            .await?;
        Ok(ComplianceMetrics {
            period,
            previous_period,
            overall,
            companies: companies
                .into_iter()
                .map(|(company_id, figures)| CompanyFigures {
                    company_id,
                    figures,
                })
                .collect(),
            operators: operators
                .into_iter()
                .map(|((company_id, code), figures)| OperatorFigures {
                    operator: operator_key(company_id, code.as_deref())
                        .and_then(|key| known.get(&key).cloned()),
                    company_id,
                    code,
                    figures,
                })
                .collect(),
            checklists: checklists
                .into_iter()
                .map(|(checklist_id, figures)| ChecklistFigures {
                    name: names.get(&checklist_id).cloned().flatten(),
                    checklist_id,
                    figures,
                })
                .collect(),
            items,
        })
    }

    /// Per-version tallies merged per checklist item, named from the newest version seen,
    /// in the checklist's order.
    async fn items(
        &self,
        now: Vec<ItemTally>,
        before: Vec<ItemTally>,
    ) -> DomainResult<Vec<ItemFigures>> {
        struct Merged {
            version: i32,
            critical: bool,
            verdicts: Compared<ItemCount>,
        }
        let mut merged = BTreeMap::<(ChecklistId, String), Merged>::new();
        for (previous, tallies) in [(false, now), (true, before)] {
            for t in tallies {
                let item = merged.entry((t.checklist_id, t.item_id)).or_insert(Merged {
                    version: t.version,
                    critical: t.critical,
                    verdicts: Compared::default(),
                });
                if t.version > item.version {
                    item.version = t.version;
                    item.critical = t.critical;
                }
                let side = if previous {
                    &mut item.verdicts.previous
                } else {
                    &mut item.verdicts.current
                };
                side.applicable += t.applicable;
                side.passed += t.passed;
            }
        }
        let mut newest = BTreeMap::<ChecklistId, i32>::new();
        for ((checklist, _), item) in &merged {
            let version = newest.entry(*checklist).or_insert(item.version);
            *version = (*version).max(item.version);
        }
        let wanted = merged
            .iter()
            .map(|((checklist, _), item)| (*checklist, item.version))
            .chain(newest.iter().map(|(c, v)| (*c, *v)))
            .collect();
        let texts = self.versions(wanted).await?;
        let mut items: Vec<(usize, ItemFigures)> = merged
            .into_iter()
            .map(|((checklist_id, item_id), item)| {
                let own = texts.get(&(checklist_id, item.version));
                let position = own
                    .and_then(|v| v.items.iter().position(|i| i.id == item_id))
                    .unwrap_or(usize::MAX);
                let figures = ItemFigures {
                    checklist_name: newest
                        .get(&checklist_id)
                        .and_then(|v| texts.get(&(checklist_id, *v)))
                        .map(|v| v.name.clone()),
                    text: own.and_then(|v| item_text(v, &item_id)),
                    critical: own
                        .and_then(|v| v.items.iter().find(|i| i.id == item_id))
                        .map_or(item.critical, |i| i.critical),
                    checklist_id,
                    item_id,
                    verdicts: item.verdicts,
                };
                (position, figures)
            })
            .collect();
        items.sort_by(|(pa, a), (pb, b)| {
            (a.checklist_id, *pa, &a.item_id).cmp(&(b.checklist_id, *pb, &b.item_id))
        });
        Ok(items.into_iter().map(|(_, item)| item).collect())
    }

    async fn operators(
        &self,
        keys: BTreeSet<OperatorKey>,
    ) -> DomainResult<BTreeMap<OperatorKey, OperatorRef>> {
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        let keys: Vec<OperatorKey> = keys.into_iter().collect();
        Ok(self
            .figures
            .operators_by_code(&keys)
            .await?
            .into_iter()
            .map(|o| (o.key.clone(), o))
            .collect())
    }

    async fn versions(
        &self,
        keys: BTreeSet<(ChecklistId, i32)>,
    ) -> DomainResult<BTreeMap<(ChecklistId, i32), ChecklistVersionText>> {
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        let keys: Vec<(ChecklistId, i32)> = keys.into_iter().collect();
        Ok(self
            .figures
            .checklist_versions(&keys)
            .await?
            .into_iter()
            .map(|v| ((v.checklist_id, v.version), v))
            .collect())
    }
}

/// The items with failures in the period, most failures first (then in checklist order).
fn most_failed(items: &[ItemFigures], count: usize) -> Vec<FailedItem> {
    let mut failed: Vec<FailedItem> = items
        .iter()
        .filter(|i| i.verdicts.current.failed() > 0)
        .map(|i| FailedItem {
            checklist_id: i.checklist_id,
            checklist_name: i.checklist_name.clone(),
            item_id: i.item_id.clone(),
            text: i.text.clone(),
            critical: i.critical,
            failures: i.verdicts.current.failed(),
            applicable: i.verdicts.current.applicable,
        })
        .collect();
    // Stable: equal counts keep the checklist order.
    failed.sort_by_key(|f| std::cmp::Reverse(f.failures));
    failed.truncate(count);
    failed
}

fn operator_key(company_id: CompanyId, code: Option<&str>) -> Option<OperatorKey> {
    code.map(|code| OperatorKey {
        company_id,
        code: code.to_owned(),
    })
}

fn item_text(version: &ChecklistVersionText, item_id: &str) -> Option<String> {
    version
        .items
        .iter()
        .find(|i| i.id == item_id)
        .map(|i| i.text.clone())
}

/// The difference of two shown (rounded) values, so it adds up on screen.
fn change(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    Some(round2(current? - previous?))
}

#[cfg(test)]
mod tests {
    use dialix_account::MockSettingsRepository;
    use dialix_kernel::{AccountId, CompanyGrant, MockClock, MockCompanyTree, Permission, Role};
    use time::macros::{date, datetime};

    use super::*;
    use crate::{ChecklistItemText, MockComplianceFigures, ScoredGroup, ScoredSlot};

    fn service(company: CompanyId, figures: MockComplianceFigures) -> ComplianceService {
        let mut tree = MockCompanyTree::new();
        tree.expect_subtree().returning(move |_| Ok(vec![company]));
        let mut settings = MockSettingsRepository::new();
        settings.expect_find().returning(|_| Ok(None));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| datetime!(2026-12-07 12:00 UTC));
        ComplianceService::new(CompliancePorts {
            framing: Framing {
                tree: Arc::new(tree),
                settings: Arc::new(settings),
                clock: Arc::new(clock),
            },
            figures: Arc::new(figures),
        })
    }

    fn administrator(company: CompanyId) -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: Some(company),
            grants: vec![CompanyGrant {
                company_id: company,
                permissions: [Permission::CanViewRecords].into(),
            }],
        }
    }

    fn week() -> FigureRequest {
        FigureRequest {
            start_date: Some(date!(2026 - 11 - 08)),
            end_date: Some(date!(2026 - 11 - 14)),
            company_id: None,
        }
    }

    fn tally(
        checklist: ChecklistId,
        version: i32,
        item: &str,
        applicable: u64,
        passed: u64,
    ) -> ItemTally {
        ItemTally {
            checklist_id: checklist,
            version,
            item_id: item.to_owned(),
            critical: false,
            applicable,
            passed,
        }
    }

    #[tokio::test]
    async fn figures_add_up_per_group_and_changes_need_both_periods() {
        let company = CompanyId::generate();
        let checklist = ChecklistId::generate();
        let this_week = datetime!(2026-11-07 19:00 UTC).unix_timestamp() * 1000;
        let mut figures = MockComplianceFigures::new();
        figures
            .expect_scored_calls()
            .returning(move |_, _, from, _| {
                let group = |code: &str, calls, compliant, score_sum| ScoredGroup {
                    company_id: company,
                    operator_code: Some(code.to_owned()),
                    checklist_id: Some(checklist),
                    calls,
                    compliant,
                    score_sum,
                };
                Ok(if from == this_week {
                    vec![group("101", 2, 1, 162.5), group("102", 1, 1, 90.0)]
                } else {
                    vec![group("101", 1, 0, 40.0)]
                })
            });
        figures
            .expect_item_tallies()
            .returning(move |_, _, from, _| {
                Ok(if from == this_week {
                    // Version 2 renamed the item; both versions' verdicts count together.
                    vec![
                        tally(checklist, 1, "1.1", 1, 1),
                        tally(checklist, 2, "1.1", 2, 1),
                    ]
                } else {
                    vec![]
                })
            });
        figures.expect_operators_by_code().returning(|_| Ok(vec![]));
        figures.expect_checklist_versions().returning(move |keys| {
            assert_eq!(keys, [(checklist, 2)], "only the newest version is read");
            Ok(vec![ChecklistVersionText {
                checklist_id: checklist,
                version: 2,
                name: "Inbound v2".to_owned(),
                items: vec![ChecklistItemText {
                    id: "1.1".to_owned(),
                    text: "Greets by name".to_owned(),
                    critical: true,
                }],
            }])
        });
        let metrics = service(company, figures)
            .metrics(
                &administrator(company),
                &ComplianceRequest {
                    figures: week(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // 3 calls, 2 compliant: 66.67%; (162.5 + 90) / 3 = 84.17. Before: 0%, 40.
        let overall = metrics.overall;
        assert_eq!(overall.current.compliance_rate_percent(), Some(66.67));
        assert_eq!(overall.current.average_score(), Some(84.17));
        assert_eq!(overall.compliance_rate_change_points(), Some(66.67));
        assert_eq!(overall.average_score_change_points(), Some(44.17));
        let ops = &metrics.operators;
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1].code.as_deref(), Some("102"));
        assert_eq!(ops[1].figures.compliance_rate_change_points(), None);
        let item = &metrics.items[0];
        assert_eq!(
            (item.text.as_deref(), item.critical),
            (Some("Greets by name"), true)
        );
        // 2 of 3 applicable verdicts passed: 66.67%; never applied before: no change.
        assert_eq!(item.verdicts.current.pass_rate_percent(), Some(66.67));
        assert_eq!(item.verdicts.pass_rate_change_points(), None);
        assert_eq!(metrics.checklists[0].name.as_deref(), Some("Inbound v2"));
    }

    #[tokio::test]
    async fn an_operator_outside_the_scope_is_not_found() {
        let company = CompanyId::generate();
        let elsewhere = OperatorRef {
            id: OperatorId::generate(),
            key: OperatorKey {
                company_id: CompanyId::generate(),
                code: "101".to_owned(),
            },
            name: "Aziza".to_owned(),
        };
        let mut figures = MockComplianceFigures::new();
        figures
            .expect_operator()
            .returning(move |_| Ok(Some(elsewhere.clone())));
        let refused = service(company, figures)
            .tracking(
                &administrator(company),
                &TrackingRequest {
                    figures: week(),
                    operator_id: OperatorId::generate(),
                    granularity: Granularity::Day,
                },
            )
            .await;
        assert!(matches!(refused, Err(DomainError::NotFound("operator"))));
    }

    #[tokio::test]
    async fn tracking_places_slots_in_local_buckets_and_keeps_empty_ones() {
        let company = CompanyId::generate();
        let operator = OperatorRef {
            id: OperatorId::generate(),
            key: OperatorKey {
                company_id: company,
                code: "101".to_owned(),
            },
            name: "Aziza".to_owned(),
        };
        let mut figures = MockComplianceFigures::new();
        let found = operator.clone();
        figures
            .expect_operator()
            .returning(move |_| Ok(Some(found.clone())));
        // 9 November 23:30 UTC is already the 10th in Tashkent.
        let late = datetime!(2026-11-09 23:30 UTC).unix_timestamp() * 1000 / crate::SLOT_MS;
        figures
            .expect_scored_slots()
            .returning(move |_, filter, _, _| {
                assert_eq!(filter.operators.len(), 1);
                Ok(vec![ScoredSlot {
                    slot: late,
                    calls: 2,
                    compliant: 1,
                    score_sum: 150.0,
                }])
            });
        figures
            .expect_item_tallies()
            .returning(|_, _, _, _| Ok(vec![]));
        let tracking = service(company, figures)
            .tracking(
                &administrator(company),
                &TrackingRequest {
                    figures: week(),
                    operator_id: operator.id,
                    granularity: Granularity::Day,
                },
            )
            .await
            .unwrap();
        assert_eq!(tracking.series.len(), 7);
        let (bucket, tally) = &tracking.series[2];
        assert_eq!(bucket.start_date, date!(2026 - 11 - 10));
        assert_eq!((tally.scored_calls, tally.average_score()), (2, Some(75.0)));
        assert_eq!(tracking.series[1].1.average_score(), None);
        assert!(tracking.most_failed.is_empty());
    }
}
