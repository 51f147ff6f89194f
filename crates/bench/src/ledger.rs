//! The money: a ledger `charge` per processed call and step (speech-to-text, general
//! analysis, checklist; the server's prices and keys), chat sessions about a share of the
//! calls with a charge per answered question, and top-ups every one to two weeks per company
//! that keep the balance positive; `balance_after` runs through each company's entries in time order
//! and the company's `balance` is where it ends. Rows are written in time order across
//! companies, interleaved as the server appends them, so a company's entries are spread over
//! the table as they are in production.

use dialix_calls::Prices;
use serde_json::json;
use uuid::Uuid;

use crate::Result;
use crate::calls::Processed;
use crate::copy::Sink;
use crate::population::Population;
use crate::rng::Rng;

/// Share of processed calls someone asks the chat about.
const CHAT_SHARE: f64 = 0.03;
/// What one answered question costs (200 so'm; the server's default is free).
pub const CHAT_PRICE: i64 = 20_000;
const DAY_MS: i64 = 86_400_000;
/// Top-ups are whole multiples of this (1,000,000 so'm).
const TOPUP_UNIT: i64 = 100_000_000;
const NO_OWNER: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Stt,
    General,
    Checklist,
    /// The answer message's id.
    Chat(Uuid),
    /// The company's top-up number (from 1).
    Topup(u16),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    company: u16,
    created_ms: i64,
    /// Generation order: ties on time keep it.
    seq: u32,
    kind: Kind,
    /// Signed: charges are negative.
    amount: i64,
    /// Index into `Population::accounts` (`NO_OWNER`: none).
    owner: u32,
    record: Option<Uuid>,
}

/// A chat session about one call: its questions' (asked, answered) times.
pub struct Session {
    id: Uuid,
    company: u16,
    owner: u32,
    record: Uuid,
    /// Per question: asked at, answered at, the answer's id.
    questions: Vec<(i64, i64, Uuid)>,
}

/// Everything the ledger and the chat tables get, planned in memory (the balance needs the
/// entries in time order, which the calls are not in).
pub struct Plan {
    entries: Vec<Entry>,
    pub sessions: Vec<Session>,
    /// Each company's balance after its last entry.
    pub balances: Vec<i64>,
}

impl Plan {
    pub fn entries(&self) -> usize {
        self.entries.len()
    }

    pub fn new(seed: u64, population: &Population, processed: &[Processed]) -> Self {
        let prices = Prices::default();
        let mut entries = Vec::with_capacity(processed.len() * 3);
        let mut sessions = Vec::new();
        let mut seq = 0u32;
        let mut push = |entries: &mut Vec<Entry>, entry: Entry| {
            entries.push(Entry { seq, ..entry });
            seq += 1;
        };
        let mut rng = Rng::stream(seed, 30, 0);
        for call in processed {
            let price = prices.price(call.duration_ms as u64, true, call.checklist.is_some());
            // The steps settle one after the other as the job runs.
            let mut steps = vec![
                (Kind::Stt, price.stt, call.done_ms - 4_000),
                (Kind::General, price.general, call.done_ms - 1_500),
            ];
            if call.checklist.is_some() {
                steps.push((Kind::Checklist, price.checklist, call.done_ms));
            }
            for (kind, amount, at) in steps {
                push(
                    &mut entries,
                    Entry {
                        company: call.company,
                        created_ms: at,
                        seq: 0,
                        kind,
                        amount: -amount,
                        owner: call.owner,
                        record: Some(call.id),
                    },
                );
            }
            if !rng.chance(CHAT_SHARE) {
                continue;
            }
            let company = &population.companies[call.company as usize];
            let owner = if rng.chance(0.7) {
                call.owner
            } else {
                company.admin as u32
            };
            let opened = call.done_ms + rng.log_uniform(60_000.0, 7.0 * DAY_MS as f64) as i64;
            let mut at = opened + rng.between(5_000, 60_000);
            let mut questions = Vec::new();
            for _ in 0..rng.between(1, 3) {
                if at + 10_000 >= population.end_ms {
                    break;
                }
                let answered = at + rng.between(2_000, 9_000);
                let answer = rng.uuid_v7(answered);
                questions.push((at, answered, answer));
                push(
                    &mut entries,
                    Entry {
                        company: call.company,
                        created_ms: answered,
                        seq: 0,
                        kind: Kind::Chat(answer),
                        amount: -CHAT_PRICE,
                        owner,
                        record: Some(call.id),
                    },
                );
                at = answered + rng.between(20_000, 300_000);
            }
            if !questions.is_empty() {
                sessions.push(Session {
                    id: rng.uuid_v7(opened),
                    company: call.company,
                    owner,
                    record: call.id,
                    questions,
                });
            }
        }

        // Each company tops up every one to two weeks, a little more than it then spends
        // until the next top-up, so the balance never goes below zero.
        for company in 0..population.companies.len() {
            let mut times = vec![population.start_ms - 3_600_000];
            loop {
                let next = times[times.len() - 1] + rng.between(6 * 24, 12 * 24) * 3_600_000;
                if next >= population.end_ms {
                    break;
                }
                times.push(next);
            }
            let mut spend = vec![0i64; times.len()];
            for entry in entries.iter().filter(|e| e.company as usize == company) {
                let interval = times.partition_point(|&t| t <= entry.created_ms).max(1) - 1;
                spend[interval] -= entry.amount;
            }
            for (n, (&at, &spent)) in times.iter().zip(&spend).enumerate() {
                let amount = ((spent as f64 * (1.1 + rng.unit() * 0.3)) as i64 / TOPUP_UNIT + 1)
                    * TOPUP_UNIT;
                push(
                    &mut entries,
                    Entry {
                        company: company as u16,
                        created_ms: at,
                        seq: 0,
                        kind: Kind::Topup(n as u16 + 1),
                        amount,
                        owner: population.platform_admin as u32,
                        record: None,
                    },
                );
            }
        }
        entries.sort_unstable_by_key(|e| (e.created_ms, e.seq));
        let mut balances = vec![0i64; population.companies.len()];
        for entry in &entries {
            balances[entry.company as usize] += entry.amount;
        }
        Self {
            entries,
            sessions,
            balances,
        }
    }
}

pub const TRANSACTION_COLUMNS: [&str; 10] = [
    "id",
    "company_id",
    "owner_id",
    "record_id",
    "kind",
    "amount",
    "balance_after",
    "idempotency_key",
    "created_at",
    "charge_item",
];

/// The `transaction` rows in time order, each with its company's running balance.
pub fn write_transactions(
    sink: &mut Sink,
    seed: u64,
    population: &Population,
    plan: &Plan,
) -> Result<()> {
    let mut rng = Rng::stream(seed, 31, 0);
    let mut balances = vec![0i64; population.companies.len()];
    for entry in &plan.entries {
        let balance = &mut balances[entry.company as usize];
        *balance += entry.amount;
        let balance = *balance;
        let (kind, item, key) = match entry.kind {
            Kind::Stt | Kind::General | Kind::Checklist => {
                let (item, step) = match entry.kind {
                    Kind::Stt => ("speech_to_text", "stt"),
                    Kind::General => ("general_analysis", "general"),
                    _ => ("checklist", "checklist"),
                };
                let record = entry.record.unwrap_or_default();
                (
                    "charge",
                    Some(item),
                    format!("charge:record:{record}:1:{step}"),
                )
            }
            Kind::Chat(answer) => ("charge", Some("chat"), format!("charge:chat:{answer}")),
            Kind::Topup(number) => (
                "topup",
                None,
                format!("topup:bench-invoice-{:02}-{number}", entry.company + 1),
            ),
        };
        let owner = (entry.owner != NO_OWNER).then(|| population.accounts[entry.owner as usize].id);
        sink.row()?
            .uuid(rng.uuid_v7(entry.created_ms))
            .uuid(population.companies[entry.company as usize].id)
            .opt_uuid(owner)
            .opt_uuid(entry.record)
            .text(kind)
            .int(entry.amount)
            .int(balance)
            .text(&key)
            .int(entry.created_ms)
            .opt_text(item)
            .end();
    }
    Ok(())
}

pub const SESSION_COLUMNS: [&str; 11] = [
    "id",
    "owner_id",
    "company_id",
    "subject",
    "record_id",
    "questions_used",
    "created_at",
    "updated_at",
    "deleted_at",
    "row_version",
    "client_phone_number",
];

pub fn write_sessions(sink: &mut Sink, population: &Population, plan: &Plan) -> Result<()> {
    for s in &plan.sessions {
        let opened = s.questions.first().map_or(0, |q| q.0) - 5_000;
        let last = s.questions.last().map_or(opened, |q| q.1);
        sink.row()?
            .uuid(s.id)
            .uuid(population.accounts[s.owner as usize].id)
            .uuid(population.companies[s.company as usize].id)
            .text("record")
            .uuid(s.record)
            .int(s.questions.len() as i64)
            .int(opened)
            .int(last)
            .null()
            .int(s.questions.len() as i64)
            .null()
            .end();
    }
    Ok(())
}

pub const MESSAGE_COLUMNS: [&str; 9] = [
    "id",
    "session_id",
    "seq",
    "role",
    "content",
    "citations",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
];

const QUESTIONS: [&str; 4] = [
    "Mijoz nimadan norozi bo'ldi?",
    "Оператор предложил решение?",
    "Was the customer's issue resolved?",
    "Qo'ng'iroq oxirida qanday kelishuvga erishildi?",
];

pub fn write_messages(sink: &mut Sink, seed: u64, plan: &Plan) -> Result<()> {
    let mut rng = Rng::stream(seed, 32, 0);
    let empty = json!([]);
    for s in &plan.sessions {
        for (n, &(asked, answered, answer)) in s.questions.iter().enumerate() {
            let question = QUESTIONS[rng.below(QUESTIONS.len() as u64) as usize];
            sink.row()?
                .uuid(rng.uuid_v7(asked))
                .uuid(s.id)
                .int(2 * n as i64 + 1)
                .text("user")
                .text(question)
                .json(&empty)
                .null()
                .null()
                .int(asked)
                .end();
            sink.row()?
                .uuid(answer)
                .uuid(s.id)
                .int(2 * n as i64 + 2)
                .text("assistant")
                .text("Suhbat yozuviga ko'ra, operator masalani ko'rib chiqib, keyingi qadamni aytdi.")
                .json(&empty)
                .int(rng.between(1_200, 4_000))
                .int(rng.between(80, 400))
                .int(answered)
                .end();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_stay_positive_and_top_ups_reach_the_last_weeks() {
        let end_ms = 1_800_000_000_000;
        let population = Population::new(5, 2, 400, end_ms);
        let processed: Vec<Processed> = (0..400u32)
            .map(|i| Processed {
                index: i,
                id: Uuid::from_u128(u128::from(i) + 1),
                company: (i % 2) as u16,
                code: 0,
                owner: population.companies[(i % 2) as usize].admin as u32,
                call_at: population.start_ms + i64::from(i) * 19 * 60_000 * 60,
                done_ms: population.start_ms + i64::from(i) * 19 * 60_000 * 60 + 60_000,
                duration_ms: 90_000,
                checklist: (i % 3 == 0).then_some((0, 0)),
            })
            .collect();
        let plan = Plan::new(1, &population, &processed);
        let mut running = [0i64; 2];
        for entry in &plan.entries {
            running[entry.company as usize] += entry.amount;
            assert!(running[entry.company as usize] >= 0, "{entry:?}");
        }
        assert_eq!(running.to_vec(), plan.balances);
        // Every call is charged twice, a third a third time.
        let charges = plan.entries.iter().filter(|e| e.amount < 0).count();
        let chats = plan
            .entries
            .iter()
            .filter(|e| matches!(e.kind, Kind::Chat(_)))
            .count();
        assert_eq!(charges - chats, 400 * 2 + 134);
        let recent = plan
            .entries
            .iter()
            .filter(|e| matches!(e.kind, Kind::Topup(_)) && e.created_ms > end_ms - 30 * DAY_MS)
            .count();
        assert!(recent >= 2 * 2, "{recent} top-ups in the last 30 days");
    }
}
