//! The dashboard: one period's call volume (every day present), the conversation, client and
//! operator sentiment distributions, call purposes, operator performance, satisfaction and
//! repeat calls, all over the caller's scope.
//!
//! Rates and averages are `None` when there is nothing to divide by (no calls, no analysed or
//! scored calls); counts are zero and lists empty, so an empty period has the same shape.

use std::sync::Arc;

use dialix_kernel::{Actor, CompanyId, DomainResult, OperatorId};
use time::Date;

use crate::{DashboardFigures, FigureRequest, Framing, Granularity, Period, percent, round2};

/// Grouping's default window: a call within this time of the previous call of the same
/// number (to the same company) follows it (`docs/grouping.md`).
pub const REPEAT_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Grouping's default transfer gap: a follow-up within it is a transfer, not a repeat.
pub const TRANSFER_GAP_MS: i64 = 15 * 60 * 1000;

/// A sentiment value of the general analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

impl Sentiment {
    pub const ALL: [Sentiment; 3] = [Sentiment::Positive, Sentiment::Neutral, Sentiment::Negative];

    pub const fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }

    /// The value as stored; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Calls and their summed duration in one [`crate::SLOT_MS`] slot (`call_at / SLOT_MS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotVolume {
    pub slot: i64,
    pub calls: u64,
    pub duration_ms: u64,
}

/// Calls with one combination of analysis facts (all `None`: not analysed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisMix {
    pub conversation: Option<Sentiment>,
    pub client: Option<Sentiment>,
    pub operator: Option<Sentiment>,
    pub satisfied: Option<bool>,
    pub calls: u64,
}

/// Analysed calls with one call purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeCount {
    pub purpose: String,
    pub calls: u64,
}

/// The calls one operator code of one company took, with the catalogue's operator when one
/// has that code.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorTotals {
    pub company_id: CompanyId,
    pub operator_code: String,
    pub operator_id: Option<OperatorId>,
    pub operator_name: Option<String>,
    pub calls: u64,
    pub duration_ms: u64,
    /// Calls with a checklist score.
    pub scored_calls: u64,
    pub score_sum: f64,
    /// Scored calls that were compliant.
    pub compliant_calls: u64,
}

/// The period's calls with a client number, and how many of them are repeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepeatCounts {
    pub calls_with_number: u64,
    pub repeat_calls: u64,
}

/// What a repeat call is: it follows the previous call of its number to the same company by
/// more than `transfer_gap_ms` and at most `window_ms`. That previous call may be before the
/// period (within the window), so whether a call is a repeat does not depend on where the
/// period starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatRule {
    pub window_ms: i64,
    pub transfer_gap_ms: i64,
}

impl Default for RepeatRule {
    fn default() -> Self {
        Self {
            window_ms: REPEAT_WINDOW_MS,
            transfer_gap_ms: TRANSFER_GAP_MS,
        }
    }
}

/// Everything the dashboard aggregates, as one period's grouped rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DashboardRows {
    /// Only slots with calls.
    pub volume: Vec<SlotVolume>,
    pub analysis: Vec<AnalysisMix>,
    pub purposes: Vec<PurposeCount>,
    /// Only calls with an operator code.
    pub operators: Vec<OperatorTotals>,
    pub repeats: RepeatCounts,
}

/// The dashboard of one period.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub period: Period,
    pub volume: CallVolume,
    pub conversation_sentiment: Distribution,
    pub client_sentiment: Distribution,
    pub operator_sentiment: Distribution,
    /// Most common first (ties by name).
    pub call_purposes: Vec<PurposeShare>,
    /// Most calls first (ties by company, then code).
    pub operators: Vec<OperatorPerformance>,
    pub satisfaction: Satisfaction,
    pub repeats: RepeatCalls,
}

/// Calls that happened in the period, in total and per local day.
#[derive(Debug, Clone, PartialEq)]
pub struct CallVolume {
    pub calls: u64,
    pub duration_ms: u64,
    /// Every day of the period, days without calls too.
    pub days: Vec<DayVolume>,
}

impl CallVolume {
    pub fn average_duration_ms(&self) -> Option<u64> {
        average_ms(self.duration_ms, self.calls)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayVolume {
    pub date: Date,
    pub calls: u64,
    pub duration_ms: u64,
}

/// Calls of each sentiment value, out of the calls that have one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Distribution {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

impl Distribution {
    fn add(&mut self, value: Option<Sentiment>, calls: u64) {
        match value {
            Some(Sentiment::Positive) => self.positive += calls,
            Some(Sentiment::Neutral) => self.neutral += calls,
            Some(Sentiment::Negative) => self.negative += calls,
            None => {}
        }
    }

    /// Calls with a value (analysed calls).
    pub fn total(&self) -> u64 {
        self.positive + self.neutral + self.negative
    }

    pub fn calls(&self, value: Sentiment) -> u64 {
        match value {
            Sentiment::Positive => self.positive,
            Sentiment::Neutral => self.neutral,
            Sentiment::Negative => self.negative,
        }
    }

    /// The value's share of [`Distribution::total`], in percent.
    pub fn percent(&self, value: Sentiment) -> Option<f64> {
        percent(self.calls(value), self.total())
    }
}

/// One call purpose's calls and share of the analysed calls.
#[derive(Debug, Clone, PartialEq)]
pub struct PurposeShare {
    pub purpose: String,
    pub calls: u64,
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OperatorPerformance {
    pub company_id: CompanyId,
    pub operator_code: String,
    pub operator_id: Option<OperatorId>,
    pub operator_name: Option<String>,
    pub calls: u64,
    pub average_duration_ms: Option<u64>,
    pub scored_calls: u64,
    /// 0–100, two decimals; `None` without scored calls.
    pub average_checklist_score: Option<f64>,
    pub compliant_calls: u64,
    /// Compliant scored calls over scored calls.
    pub compliance_rate_percent: Option<f64>,
}

impl From<OperatorTotals> for OperatorPerformance {
    fn from(o: OperatorTotals) -> Self {
        Self {
            average_duration_ms: average_ms(o.duration_ms, o.calls),
            average_checklist_score: (o.scored_calls > 0)
                .then(|| round2(o.score_sum / o.scored_calls as f64)),
            compliance_rate_percent: percent(o.compliant_calls, o.scored_calls),
            company_id: o.company_id,
            operator_code: o.operator_code,
            operator_id: o.operator_id,
            operator_name: o.operator_name,
            calls: o.calls,
            scored_calls: o.scored_calls,
            compliant_calls: o.compliant_calls,
        }
    }
}

/// Analysed calls whose customer was satisfied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Satisfaction {
    pub analysed_calls: u64,
    pub satisfied_calls: u64,
}

impl Satisfaction {
    pub fn rate_percent(&self) -> Option<f64> {
        percent(self.satisfied_calls, self.analysed_calls)
    }
}

/// The period's calls with a number that repeat an earlier call ([`RepeatRule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatCalls {
    pub rule: RepeatRule,
    pub calls_with_number: u64,
    pub repeat_calls: u64,
}

impl RepeatCalls {
    pub fn rate_percent(&self) -> Option<f64> {
        percent(self.repeat_calls, self.calls_with_number)
    }
}

/// The adapters `DashboardService` works through.
pub struct DashboardPorts {
    pub figures: Arc<dyn DashboardFigures>,
    pub framing: Framing,
}

/// The dashboard of the caller's scope.
pub struct DashboardService {
    ports: DashboardPorts,
}

impl DashboardService {
    pub fn new(ports: DashboardPorts) -> Self {
        Self { ports }
    }

    /// The dashboard of `request`'s period (in the caller's time zone) and scope.
    pub async fn dashboard(
        &self,
        actor: &Actor,
        request: &FigureRequest,
    ) -> DomainResult<Dashboard> {
        let (scope, period) = self.ports.framing.frame(actor, request).await?;
        let rule = RepeatRule::default();
        let rows = self
            .ports
            .figures
            .dashboard(&scope, period.start_ms(), period.end_ms(), rule)
            .await?;
        Ok(assemble(&period, rule, rows))
    }
}

/// The figures of `rows`, over `period`'s days.
fn assemble(period: &Period, rule: RepeatRule, rows: DashboardRows) -> Dashboard {
    let days = period.buckets(Granularity::Day);
    let mut volume: Vec<DayVolume> = days
        .items
        .iter()
        .map(|b| DayVolume {
            date: b.start_date,
            calls: 0,
            duration_ms: 0,
        })
        .collect();
    for slot in &rows.volume {
        if let Some(day) = days
            .index_of_slot(slot.slot)
            .and_then(|i| volume.get_mut(i))
        {
            day.calls += slot.calls;
            day.duration_ms += slot.duration_ms;
        }
    }
    let mut conversation = Distribution::default();
    let mut client = Distribution::default();
    let mut operator = Distribution::default();
    let mut satisfaction = Satisfaction::default();
    for mix in &rows.analysis {
        conversation.add(mix.conversation, mix.calls);
        client.add(mix.client, mix.calls);
        operator.add(mix.operator, mix.calls);
        if let Some(satisfied) = mix.satisfied {
            satisfaction.analysed_calls += mix.calls;
            if satisfied {
                satisfaction.satisfied_calls += mix.calls;
            }
        }
    }
    let purposed: u64 = rows.purposes.iter().map(|p| p.calls).sum();
    let mut call_purposes: Vec<PurposeShare> = rows
        .purposes
        .into_iter()
        .map(|p| PurposeShare {
            percent: percent(p.calls, purposed),
            purpose: p.purpose,
            calls: p.calls,
        })
        .collect();
    call_purposes.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.purpose.cmp(&b.purpose))
    });
    let mut operators: Vec<OperatorPerformance> =
        rows.operators.into_iter().map(Into::into).collect();
    operators.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.company_id.as_uuid().cmp(&b.company_id.as_uuid()))
            .then_with(|| a.operator_code.cmp(&b.operator_code))
    });
    Dashboard {
        period: period.clone(),
        volume: CallVolume {
            calls: volume.iter().map(|d| d.calls).sum(),
            duration_ms: volume.iter().map(|d| d.duration_ms).sum(),
            days: volume,
        },
        conversation_sentiment: conversation,
        client_sentiment: client,
        operator_sentiment: operator,
        call_purposes,
        operators,
        satisfaction,
        repeats: RepeatCalls {
            rule,
            calls_with_number: rows.repeats.calls_with_number,
            repeat_calls: rows.repeats.repeat_calls,
        },
    }
}

/// The mean in whole milliseconds; `None` of nothing.
fn average_ms(total_ms: u64, count: u64) -> Option<u64> {
    (count > 0).then(|| (total_ms as f64 / count as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use dialix_account::MockSettingsRepository;
    use dialix_kernel::{AccountId, MockClock, MockCompanyTree, Role};
    use time::macros::{date, datetime};

    use super::*;
    use crate::{FigureScope, MockDashboardFigures, SLOT_MS};

    fn service(figures: MockDashboardFigures) -> DashboardService {
        let mut settings = MockSettingsRepository::new();
        settings.expect_find().returning(|_| Ok(None));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| datetime!(2026-12-07 12:00 UTC));
        DashboardService::new(DashboardPorts {
            figures: Arc::new(figures),
            framing: Framing {
                tree: Arc::new(MockCompanyTree::new()),
                settings: Arc::new(settings),
                clock: Arc::new(clock),
            },
        })
    }

    fn user() -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: Some(CompanyId::generate()),
            grants: vec![],
        }
    }

    fn slot(at: time::OffsetDateTime) -> i64 {
        (at.unix_timestamp() * 1000) / SLOT_MS
    }

    fn request() -> FigureRequest {
        FigureRequest {
            start_date: Some(date!(2026 - 11 - 01)),
            end_date: Some(date!(2026 - 11 - 03)),
            company_id: None,
        }
    }

    #[tokio::test]
    async fn figures_are_bucketed_by_local_day_and_divided_out() {
        let actor = user();
        let owner = actor.account_id;
        let company = CompanyId::generate();
        let mut figures = MockDashboardFigures::new();
        figures
            .expect_dashboard()
            .withf(move |scope, from, to, rule| {
                // Tashkent (UTC+5): 1 November starts at 31 October 19:00 UTC.
                *scope == FigureScope::Owner(owner)
                    && *from == 1_793_473_200_000
                    && *to - *from == 3 * 86_400_000
                    && *rule == RepeatRule::default()
            })
            .returning(move |_, _, _, _| {
                Ok(DashboardRows {
                    volume: vec![
                        // 31 October 19:00 UTC is 1 November in Tashkent.
                        SlotVolume {
                            slot: slot(datetime!(2026-10-31 19:00 UTC)),
                            calls: 2,
                            duration_ms: 3_000,
                        },
                        // 23:30 UTC on 1 November is 2 November in Tashkent.
                        SlotVolume {
                            slot: slot(datetime!(2026-11-01 23:30 UTC)),
                            calls: 1,
                            duration_ms: 4_000,
                        },
                    ],
                    analysis: vec![
                        AnalysisMix {
                            conversation: Some(Sentiment::Positive),
                            client: Some(Sentiment::Neutral),
                            operator: Some(Sentiment::Positive),
                            satisfied: Some(true),
                            calls: 2,
                        },
                        AnalysisMix {
                            conversation: None,
                            client: None,
                            operator: None,
                            satisfied: None,
                            calls: 1,
                        },
                    ],
                    purposes: vec![
                        PurposeCount {
                            purpose: "billing".into(),
                            calls: 1,
                        },
                        PurposeCount {
                            purpose: "sales".into(),
                            calls: 1,
                        },
                    ],
                    operators: vec![OperatorTotals {
                        company_id: company,
                        operator_code: "101".into(),
                        operator_id: None,
                        operator_name: None,
                        calls: 3,
                        duration_ms: 7_000,
                        scored_calls: 3,
                        score_sum: 200.0,
                        compliant_calls: 2,
                    }],
                    repeats: RepeatCounts {
                        calls_with_number: 3,
                        repeat_calls: 1,
                    },
                })
            });
        let dashboard = service(figures)
            .dashboard(&actor, &request())
            .await
            .unwrap();
        let days: Vec<(Date, u64, u64)> = dashboard
            .volume
            .days
            .iter()
            .map(|d| (d.date, d.calls, d.duration_ms))
            .collect();
        assert_eq!(
            days,
            [
                (date!(2026 - 11 - 01), 2, 3_000),
                (date!(2026 - 11 - 02), 1, 4_000),
                (date!(2026 - 11 - 03), 0, 0)
            ]
        );
        assert_eq!(dashboard.volume.calls, 3);
        // 7000 / 3 = 2333.33 → 2333.
        assert_eq!(dashboard.volume.average_duration_ms(), Some(2_333));
        assert_eq!(dashboard.conversation_sentiment.total(), 2);
        assert_eq!(
            dashboard
                .conversation_sentiment
                .percent(Sentiment::Positive),
            Some(100.0)
        );
        assert_eq!(dashboard.client_sentiment.neutral, 2);
        assert_eq!(
            dashboard.satisfaction.rate_percent(),
            Some(100.0),
            "2 of 2 analysed"
        );
        assert_eq!(
            dashboard.call_purposes[0].purpose, "billing",
            "ties by name"
        );
        assert_eq!(dashboard.call_purposes[0].percent, Some(50.0));
        let operator = &dashboard.operators[0];
        // 200 / 3 = 66.67; 2 of 3 compliant = 66.67 %.
        assert_eq!(operator.average_checklist_score, Some(66.67));
        assert_eq!(operator.compliance_rate_percent, Some(66.67));
        assert_eq!(operator.average_duration_ms, Some(2_333));
        // 1 of 3 = 33.33 %.
        assert_eq!(dashboard.repeats.rate_percent(), Some(33.33));
    }

    #[tokio::test]
    async fn an_empty_period_has_every_day_and_no_rates() {
        let mut figures = MockDashboardFigures::new();
        figures
            .expect_dashboard()
            .returning(|_, _, _, _| Ok(DashboardRows::default()));
        let dashboard = service(figures)
            .dashboard(&user(), &request())
            .await
            .unwrap();
        assert_eq!(dashboard.volume.days.len(), 3);
        assert!(dashboard.volume.days.iter().all(|d| d.calls == 0));
        assert_eq!(dashboard.volume.average_duration_ms(), None);
        assert_eq!(dashboard.conversation_sentiment.total(), 0);
        assert_eq!(
            dashboard.operator_sentiment.percent(Sentiment::Negative),
            None
        );
        assert!(dashboard.call_purposes.is_empty());
        assert!(dashboard.operators.is_empty());
        assert_eq!(dashboard.satisfaction.rate_percent(), None);
        assert_eq!(dashboard.repeats.rate_percent(), None);
    }

    #[test]
    fn sentiments_round_trip() {
        for s in Sentiment::ALL {
            assert_eq!(Sentiment::parse(s.as_str()), Some(s));
        }
        assert_eq!(Sentiment::parse("angry"), None);
    }
}
