use dialix_calls::{CallType, RecordScope, RecordStatus, SentimentValue};
use dialix_kernel::{CompanyId, Page, RecordId};
use time::{Duration, OffsetDateTime};

/// The longest window between two calls of one chain: a year.
pub const MAX_WINDOW_HOURS: u32 = 8760;
/// A chain lists at most this many of its record ids (the newest), beside its full count.
pub const MAX_RECORD_IDS_PER_CHAIN: usize = 50;
/// The most similar calls one request returns.
pub const MAX_SIMILAR: u64 = 50;

/// Which calls a grouping request reads: the records-listing scope, optionally narrowed to
/// some companies (a `company_id` filter with its descendants).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallScope {
    pub records: RecordScope,
    pub companies: Option<Vec<CompanyId>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainSortKey {
    CallCount,
    LastCall,
    NegativeShare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSort {
    pub key: ChainSortKey,
    pub descending: bool,
}

impl Default for ChainSort {
    /// The most persistent callers first.
    fn default() -> Self {
        Self {
            key: ChainSortKey::CallCount,
            descending: true,
        }
    }
}

/// What `GET /calls/grouped` asks for. `scope` is set by the service from the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFilter {
    pub scope: CallScope,
    /// Only this company (and its descendants), within the caller's scope.
    pub company: Option<CompanyId>,
    /// A call within this time of the previous call of the same number continues its chain.
    pub window: Duration,
    /// A follow-up within this time of the previous call is a transfer, not a repeat.
    pub transfer_gap: Duration,
    /// Calls at or after (by call time).
    pub from: Option<OffsetDateTime>,
    /// Calls at or before (by call time).
    pub to: Option<OffsetDateTime>,
    /// Only chains in which this operator took at least one call.
    pub operator_code: Option<String>,
    /// Only chains of at least this many calls are listed (the summary counts all).
    pub min_calls: u32,
    pub sort: ChainSort,
}

impl Default for ChainFilter {
    fn default() -> Self {
        Self {
            scope: CallScope::default(),
            company: None,
            window: Duration::hours(24),
            transfer_gap: Duration::minutes(15),
            from: None,
            to: None,
            operator_code: None,
            min_calls: 2,
            sort: ChainSort::default(),
        }
    }
}

/// Calls of each overall sentiment (`unknown`: not analysed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SentimentCounts {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
    pub unknown: u64,
}

/// One client number's chain: consecutive calls each within the window of the previous.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub company_id: CompanyId,
    pub client_phone_number: String,
    pub started_at: OffsetDateTime,
    pub ended_at: OffsetDateTime,
    pub call_count: u64,
    /// Follow-ups later than the transfer gap.
    pub repeat_count: u64,
    /// Follow-ups within the transfer gap.
    pub transfer_count: u64,
    pub total_duration_ms: u64,
    pub sentiments: SentimentCounts,
    /// Operator codes of the chain's calls, sorted.
    pub operators: Vec<String>,
    /// The analysis' customer-satisfied flag of the chain's last call; `None` when that call
    /// has no analysis.
    pub last_call_resolved: Option<bool>,
    /// The newest `MAX_RECORD_IDS_PER_CHAIN` calls, newest first.
    pub record_ids: Vec<RecordId>,
    /// The client's name from the company's CRM: that of the chain's latest call whose
    /// lookup found the client.
    pub customer_name: Option<String>,
    /// The window after the last call has not closed by the end of the period: a repeat may
    /// still follow.
    pub window_open: bool,
}

impl Chain {
    pub fn average_duration_ms(&self) -> u64 {
        self.total_duration_ms
            .checked_div(self.call_count)
            .unwrap_or(0)
    }
}

/// Counts over every chain of the filter (not only the listed page), from which the rates
/// are derived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChainSummary {
    /// Calls with a client number.
    pub calls: u64,
    /// Calls without a client number (never grouped).
    pub calls_without_number: u64,
    pub chains: u64,
    pub repeat_calls: u64,
    pub transfer_calls: u64,
    /// Sum of the gaps before each repeat.
    pub repeat_gap_total_ms: u64,
    /// Chains whose window after the last call has closed.
    pub closed_chains: u64,
    /// Closed chains with a single contact (transfers do not count as contacts).
    pub first_contact_resolved: u64,
    /// Chains whose last call is too close to the end of the period to know whether a
    /// repeat followed; left out of first-contact resolution.
    pub open_chains: u64,
}

impl ChainSummary {
    /// Repeats over all calls with a number, in percent; `None` without calls.
    pub fn repeat_call_rate_percent(&self) -> Option<f64> {
        percent(self.repeat_calls, self.calls)
    }

    /// Closed chains resolved at first contact over closed chains, in percent.
    pub fn first_contact_resolution_percent(&self) -> Option<f64> {
        percent(self.first_contact_resolved, self.closed_chains)
    }

    pub fn average_repeat_gap_minutes(&self) -> Option<f64> {
        (self.repeat_calls > 0)
            .then(|| round2(self.repeat_gap_total_ms as f64 / self.repeat_calls as f64 / 60_000.0))
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round2(part as f64 * 100.0 / whole as f64))
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A page of chains and the summary over all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainReport {
    pub chains: Page<Chain>,
    pub summary: ChainSummary,
}

/// One call in the expanded view of a number.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberCall {
    pub id: RecordId,
    pub company_id: CompanyId,
    pub call_at: OffsetDateTime,
    pub duration_ms: u64,
    pub status: RecordStatus,
    pub call_type: Option<CallType>,
    pub operator_code: Option<String>,
    pub sentiment: Option<SentimentValue>,
    pub summary: Option<String>,
    pub call_purpose: Option<String>,
    pub customer_satisfied: Option<bool>,
    /// 0–100, when scored with a checklist.
    pub checklist_score: Option<f64>,
}

/// Why a call is offered as similar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarReason {
    /// Another call of the same client number.
    SameNumber,
    /// Same company and call purpose, with key words in common.
    SamePurposeAndKeyWords,
}

/// A call similar to the one asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarCall {
    pub id: RecordId,
    pub company_id: CompanyId,
    pub client_phone_number: Option<String>,
    pub call_at: OffsetDateTime,
    pub operator_code: Option<String>,
    pub call_purpose: Option<String>,
    pub sentiment: Option<SentimentValue>,
    pub reason: SimilarReason,
    /// Key-word overlap with the call asked about (Jaccard, 0–1).
    pub score: f64,
    pub shared_key_words: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::ChainSummary;

    #[test]
    fn rates_are_rounded_shares_and_absent_without_a_base() {
        let summary = ChainSummary {
            calls: 9,
            repeat_calls: 2,
            repeat_gap_total_ms: (350 + 1440) * 60_000,
            closed_chains: 5,
            first_contact_resolved: 4,
            ..ChainSummary::default()
        };
        assert_eq!(summary.repeat_call_rate_percent(), Some(22.22));
        assert_eq!(summary.first_contact_resolution_percent(), Some(80.0));
        assert_eq!(summary.average_repeat_gap_minutes(), Some(895.0));
        let empty = ChainSummary::default();
        assert_eq!(empty.repeat_call_rate_percent(), None);
        assert_eq!(empty.first_contact_resolution_percent(), None);
        assert_eq!(empty.average_repeat_gap_minutes(), None);
    }
}
