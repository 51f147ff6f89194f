//! Usage statistics: what the scope's calls used (counts, audio, storage, users), what they
//! cost (ledger charges by kind, grouped), platform revenue (top-ups) and series over time.
//!
//! Calls count by when they happened (`call_at`); money counts by when it moved on the ledger
//! (`created_at`). Charges are negative in the ledger and reported here as positive spend.

use std::collections::HashMap;
use std::sync::Arc;

use dialix_kernel::{AccountId, Actor, ChargedFor, CompanyId, DomainResult};
use time::Date;

use crate::{
    Bucket, Buckets, FigureRequest, FigureScope, Framing, Granularity, Period, UsageFigures,
    require_platform_admin,
};

/// The scope's calls of a period, in one aggregate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTotals {
    /// Live records whose call happened in the period, whatever their status.
    pub uploaded: u64,
    /// Of those, analysed (`done`).
    pub processed: u64,
    pub failed: u64,
    pub audio_ms: u64,
    pub storage_bytes: u64,
    /// Distinct owners (uploaders) of those calls.
    pub active_users: u64,
}

/// Calls of one [`crate::SLOT_MS`] slot of UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotCalls {
    pub slot: i64,
    pub calls: u64,
    pub audio_ms: u64,
}

/// How an adapter groups ledger charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendGrouping {
    Owner,
    Operator,
    Company,
    Slot,
}

/// The group a row of charges belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpendKey {
    /// The account charged (none for charges without one).
    Owner(Option<AccountId>),
    /// The charged call's operator (none: no call or no operator).
    Operator(Option<String>),
    Company(CompanyId),
    /// `created_at / SLOT_MS`.
    Slot(i64),
}

/// Charges of one group and one kind, as an adapter reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRow {
    pub key: SpendKey,
    /// The owner's username or the company's name.
    pub label: Option<String>,
    /// `None` for charges recorded without a kind.
    pub item: Option<ChargedFor>,
    pub charges: u64,
    /// Positive minor units.
    pub amount: i64,
}

/// Top-ups of one company in one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpRow {
    pub company_id: CompanyId,
    pub company_name: String,
    pub slot: i64,
    pub topups: u64,
    pub amount: i64,
}

/// Spend by kind, in positive minor units; `total` also holds charges of no kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spend {
    pub speech_to_text: i64,
    pub general_analysis: i64,
    pub checklist: i64,
    pub chat: i64,
    pub total: i64,
}

impl Spend {
    fn add(&mut self, item: Option<ChargedFor>, amount: i64) {
        match item {
            Some(ChargedFor::SpeechToText) => self.speech_to_text += amount,
            Some(ChargedFor::GeneralAnalysis) => self.general_analysis += amount,
            Some(ChargedFor::Checklist) => self.checklist += amount,
            Some(ChargedFor::Chat) => self.chat += amount,
            None => {}
        }
        self.total += amount;
    }
}

/// `GET /analytics/usage`.
#[derive(Debug, Clone)]
pub struct Usage {
    pub period: Period,
    pub calls: CallTotals,
    /// Charges (not amounts) of each kind in the period; chat charges are answered questions.
    pub charges: HashMap<ChargedFor, u64>,
}

/// How expenses are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpenseGrouping {
    User,
    Operator,
    Company,
    #[default]
    Day,
    Week,
    Month,
}

impl ExpenseGrouping {
    pub const ALL: [ExpenseGrouping; 6] = [
        ExpenseGrouping::User,
        ExpenseGrouping::Operator,
        ExpenseGrouping::Company,
        ExpenseGrouping::Day,
        ExpenseGrouping::Week,
        ExpenseGrouping::Month,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ExpenseGrouping::User => "user",
            ExpenseGrouping::Operator => "operator",
            ExpenseGrouping::Company => "company",
            ExpenseGrouping::Day => "day",
            ExpenseGrouping::Week => "week",
            ExpenseGrouping::Month => "month",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }

    fn granularity(self) -> Option<Granularity> {
        match self {
            ExpenseGrouping::Day => Some(Granularity::Day),
            ExpenseGrouping::Week => Some(Granularity::Week),
            ExpenseGrouping::Month => Some(Granularity::Month),
            _ => None,
        }
    }
}

/// What one row of expenses is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExpenseKey {
    User {
        id: Option<AccountId>,
        username: Option<String>,
    },
    Operator(Option<String>),
    Company {
        id: CompanyId,
        name: Option<String>,
    },
    Bucket(Date),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpenseRow {
    pub key: ExpenseKey,
    pub charges: u64,
    pub spend: Spend,
}

/// `GET /analytics/expenses`: rows in time order for time groups, else by total spend
/// (largest first).
#[derive(Debug, Clone)]
pub struct Expenses {
    pub period: Period,
    pub group_by: ExpenseGrouping,
    pub rows: Vec<ExpenseRow>,
    pub charges: u64,
    pub total: Spend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendPoint {
    pub start_date: Date,
    pub calls: u64,
    pub audio_ms: u64,
    pub spend: i64,
}

/// `GET /analytics/trends`: every bucket of the period, empty ones zero.
#[derive(Debug, Clone)]
pub struct Trends {
    pub period: Period,
    pub granularity: Granularity,
    pub points: Vec<TrendPoint>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRevenue {
    pub company_id: CompanyId,
    pub company_name: String,
    pub topups: u64,
    pub amount: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevenuePoint {
    pub start_date: Date,
    pub topups: u64,
    pub amount: i64,
}

/// `GET /analytics/revenue`: top-ups per company (largest amount first) and per bucket.
#[derive(Debug, Clone)]
pub struct Revenue {
    pub period: Period,
    pub granularity: Granularity,
    pub companies: Vec<CompanyRevenue>,
    pub points: Vec<RevenuePoint>,
    pub topups: u64,
    pub amount: i64,
}

pub struct UsagePorts {
    pub framing: Framing,
    pub figures: Arc<dyn UsageFigures>,
}

pub struct UsageService {
    ports: UsagePorts,
}

impl UsageService {
    pub fn new(ports: UsagePorts) -> Self {
        Self { ports }
    }

    pub async fn usage(&self, actor: &Actor, request: &FigureRequest) -> DomainResult<Usage> {
        let (scope, period) = self.ports.framing.frame(actor, request).await?;
        let (from, to) = (period.start_ms(), period.end_ms());
        let calls = self.ports.figures.calls(&scope, from, to).await?;
        let mut charges: HashMap<ChargedFor, u64> =
            ChargedFor::ALL.into_iter().map(|item| (item, 0)).collect();
        for row in self.spend(&scope, &period, SpendGrouping::Company).await? {
            if let Some(item) = row.item {
                *charges.entry(item).or_default() += row.charges;
            }
        }
        Ok(Usage {
            period,
            calls,
            charges,
        })
    }

    pub async fn expenses(
        &self,
        actor: &Actor,
        request: &FigureRequest,
        group_by: ExpenseGrouping,
    ) -> DomainResult<Expenses> {
        let (scope, period) = self.ports.framing.frame(actor, request).await?;
        let rows = match group_by.granularity() {
            Some(granularity) => {
                let buckets = period.buckets(granularity);
                let spent = self.spend(&scope, &period, SpendGrouping::Slot).await?;
                bucketed_expenses(&buckets, &spent)
            }
            None => {
                let grouping = match group_by {
                    ExpenseGrouping::User => SpendGrouping::Owner,
                    ExpenseGrouping::Operator => SpendGrouping::Operator,
                    _ => SpendGrouping::Company,
                };
                grouped_expenses(&self.spend(&scope, &period, grouping).await?)
            }
        };
        let mut total = Spend::default();
        for row in &rows {
            total.speech_to_text += row.spend.speech_to_text;
            total.general_analysis += row.spend.general_analysis;
            total.checklist += row.spend.checklist;
            total.chat += row.spend.chat;
            total.total += row.spend.total;
        }
        Ok(Expenses {
            charges: rows.iter().map(|r| r.charges).sum(),
            period,
            group_by,
            rows,
            total,
        })
    }

    pub async fn trends(
        &self,
        actor: &Actor,
        request: &FigureRequest,
        granularity: Granularity,
    ) -> DomainResult<Trends> {
        let (scope, period) = self.ports.framing.frame(actor, request).await?;
        let buckets = period.buckets(granularity);
        let mut points = empty_points(&buckets.items, |b| TrendPoint {
            start_date: b.start_date,
            calls: 0,
            audio_ms: 0,
            spend: 0,
        });
        let calls = self
            .ports
            .figures
            .calls_by_slot(&scope, period.start_ms(), period.end_ms())
            .await?;
        for slot in calls {
            if let Some(i) = buckets.index_of_slot(slot.slot) {
                points[i].calls += slot.calls;
                points[i].audio_ms += slot.audio_ms;
            }
        }
        for row in self.spend(&scope, &period, SpendGrouping::Slot).await? {
            if let SpendKey::Slot(slot) = row.key
                && let Some(i) = buckets.index_of_slot(slot)
            {
                points[i].spend += row.amount;
            }
        }
        Ok(Trends {
            period,
            granularity,
            points,
        })
    }

    /// Platform admins only (403 otherwise); `company_id` narrows to one company tree.
    pub async fn revenue(
        &self,
        actor: &Actor,
        request: &FigureRequest,
        granularity: Granularity,
    ) -> DomainResult<Revenue> {
        require_platform_admin(actor)?;
        let (scope, period) = self.ports.framing.frame(actor, request).await?;
        let buckets = period.buckets(granularity);
        let rows = self
            .ports
            .figures
            .topups(&scope, period.start_ms(), period.end_ms())
            .await?;
        let mut points = empty_points(&buckets.items, |b| RevenuePoint {
            start_date: b.start_date,
            topups: 0,
            amount: 0,
        });
        let mut companies: Vec<CompanyRevenue> = Vec::new();
        let mut index_of: HashMap<CompanyId, usize> = HashMap::new();
        for row in rows {
            if let Some(i) = buckets.index_of_slot(row.slot) {
                points[i].topups += row.topups;
                points[i].amount += row.amount;
            }
            let index = *index_of.entry(row.company_id).or_insert_with(|| {
                companies.push(CompanyRevenue {
                    company_id: row.company_id,
                    company_name: row.company_name,
                    topups: 0,
                    amount: 0,
                });
                companies.len() - 1
            });
            companies[index].topups += row.topups;
            companies[index].amount += row.amount;
        }
        companies.sort_by(|a, b| {
            b.amount
                .cmp(&a.amount)
                .then_with(|| a.company_name.cmp(&b.company_name))
        });
        Ok(Revenue {
            topups: companies.iter().map(|c| c.topups).sum(),
            amount: companies.iter().map(|c| c.amount).sum(),
            period,
            granularity,
            companies,
            points,
        })
    }

    async fn spend(
        &self,
        scope: &FigureScope,
        period: &Period,
        grouping: SpendGrouping,
    ) -> DomainResult<Vec<SpendRow>> {
        self.ports
            .figures
            .spend(scope, period.start_ms(), period.end_ms(), grouping)
            .await
    }
}

fn empty_points<T>(buckets: &[Bucket], empty: impl Fn(&Bucket) -> T) -> Vec<T> {
    buckets.iter().map(empty).collect()
}

/// Every bucket of the period, in order, zeros where nothing was charged.
fn bucketed_expenses(buckets: &Buckets, spent: &[SpendRow]) -> Vec<ExpenseRow> {
    let mut rows = empty_points(&buckets.items, |b| ExpenseRow {
        key: ExpenseKey::Bucket(b.start_date),
        charges: 0,
        spend: Spend::default(),
    });
    for row in spent {
        if let SpendKey::Slot(slot) = row.key
            && let Some(i) = buckets.index_of_slot(slot)
        {
            rows[i].charges += row.charges;
            rows[i].spend.add(row.item, row.amount);
        }
    }
    rows
}

/// One row per user, operator or company, largest total first (ties by key, for a stable
/// order).
fn grouped_expenses(spent: &[SpendRow]) -> Vec<ExpenseRow> {
    let mut rows: Vec<ExpenseRow> = Vec::new();
    let mut index_of: HashMap<ExpenseKey, usize> = HashMap::new();
    for row in spent {
        let key = match &row.key {
            SpendKey::Owner(id) => ExpenseKey::User {
                id: *id,
                username: row.label.clone(),
            },
            SpendKey::Operator(code) => ExpenseKey::Operator(code.clone()),
            SpendKey::Company(id) => ExpenseKey::Company {
                id: *id,
                name: row.label.clone(),
            },
            SpendKey::Slot(_) => continue,
        };
        let index = *index_of.entry(key.clone()).or_insert_with(|| {
            rows.push(ExpenseRow {
                key,
                charges: 0,
                spend: Spend::default(),
            });
            rows.len() - 1
        });
        rows[index].charges += row.charges;
        rows[index].spend.add(row.item, row.amount);
    }
    rows.sort_by(|a, b| {
        b.spend
            .total
            .cmp(&a.spend.total)
            .then_with(|| sort_key(&a.key).cmp(&sort_key(&b.key)))
    });
    rows
}

fn sort_key(key: &ExpenseKey) -> String {
    match key {
        ExpenseKey::User { id, username } => {
            format!(
                "{}{}",
                username.as_deref().unwrap_or(""),
                id.map(|i| i.as_uuid()).unwrap_or_default()
            )
        }
        ExpenseKey::Operator(code) => code.clone().unwrap_or_default(),
        ExpenseKey::Company { id, name } => {
            format!("{}{}", name.as_deref().unwrap_or(""), id.as_uuid())
        }
        ExpenseKey::Bucket(date) => date.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::SLOT_MS;

    fn slot(at: time::OffsetDateTime) -> i64 {
        (at.unix_timestamp() * 1000) / SLOT_MS
    }

    fn charge(key: SpendKey, item: ChargedFor, amount: i64) -> SpendRow {
        SpendRow {
            key,
            label: None,
            item: Some(item),
            charges: 1,
            amount,
        }
    }

    #[test]
    fn time_groups_fill_every_bucket_in_the_callers_zone() {
        let period = Period::new(
            Some(date!(2026 - 11 - 01)),
            Some(date!(2026 - 11 - 03)),
            "Asia/Tashkent",
            datetime!(2026-12-07 12:00 UTC),
        )
        .unwrap();
        let buckets = period.buckets(Granularity::Day);
        let late = SpendKey::Slot(slot(datetime!(2026-11-01 23:30 UTC)));
        let rows = bucketed_expenses(
            &buckets,
            &[
                charge(late.clone(), ChargedFor::SpeechToText, 3150),
                charge(late, ChargedFor::GeneralAnalysis, 1050),
            ],
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].spend, Spend::default());
        assert_eq!(rows[1].key, ExpenseKey::Bucket(date!(2026 - 11 - 02)));
        assert_eq!(rows[1].charges, 2);
        assert_eq!(rows[1].spend.speech_to_text, 3150);
        assert_eq!(rows[1].spend.total, 4200);
        assert_eq!(rows[2].charges, 0);
    }

    #[test]
    fn other_groups_merge_kinds_and_sort_by_total() {
        let rows = grouped_expenses(&[
            charge(SpendKey::Operator(None), ChargedFor::Chat, 10),
            charge(
                SpendKey::Operator(Some("101".into())),
                ChargedFor::SpeechToText,
                30,
            ),
            charge(SpendKey::Operator(None), ChargedFor::Checklist, 25),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, ExpenseKey::Operator(None));
        assert_eq!(rows[0].spend.total, 35);
        assert_eq!(rows[0].spend.chat, 10);
        assert_eq!(rows[0].spend.checklist, 25);
        assert_eq!(rows[1].spend.total, 30);
    }

    #[test]
    fn groupings_round_trip() {
        for g in ExpenseGrouping::ALL {
            assert_eq!(ExpenseGrouping::parse(g.as_str()), Some(g));
        }
        assert_eq!(ExpenseGrouping::parse("year"), None);
    }
}
