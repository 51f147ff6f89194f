//! The calls: when each happens and who calls (the schedule), then one `record` row per call
//! as the server would have stored it after processing.
//!
//! Clients' call counts follow a Zipf-like law tuned so that about 30% of calls are repeats;
//! a client's calls are separated by log-uniform gaps from minutes to weeks; 2% of calls
//! carry no number. Rows are written in call-time order, as they arrive in production.

use dialix_calls::{
    AudioFormat, CallType, GeneralAnalysis, RecordPayload, RecordStatus, Sentiment, SentimentValue,
    SpeakerRole, Turn, compute_metrics,
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Result;
use crate::checklists::{CHECKED_SHARE, operator_skill, review};
use crate::copy::Sink;
use crate::population::Population;
use crate::rng::{Rng, Weighted, calls_per_client};
use crate::vocab::{CUSTOMER_LINES, KEY_WORDS, OPERATOR_LINES, PHONE_PREFIXES, SENTIMENT_REASONS};

/// Share of calls that are not their client's first.
pub const REPEAT_SHARE: f64 = 0.30;
/// Share of calls without a client number.
pub const NUMBERLESS_SHARE: f64 = 0.02;
/// Share of calls analysed (status `done` with a general analysis).
pub const DONE_SHARE: f64 = 0.90;
/// The busiest client makes at most this many calls.
const MAX_CALLS_PER_CLIENT: usize = 400;
const MINUTE_MS: f64 = 60_000.0;

/// Marks a call without a client number.
pub const NO_CLIENT: u32 = u32::MAX;

/// One call: when it happened, the company, the client (global index, or `NO_CLIENT`).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub at_ms: i64,
    pub company: u16,
    pub client: u32,
}

pub struct Schedule {
    /// Every call, in call-time order.
    pub slots: Vec<Slot>,
    /// Per company, indexes into `slots` (so also in time order).
    pub by_company: Vec<Vec<u32>>,
    /// Calls that are not their client's first, over all calls.
    pub repeat_share: f64,
    /// The first company's busiest client and its number of calls.
    pub top_client: (u32, u64),
}

impl Schedule {
    pub fn new(seed: u64, population: &Population) -> Self {
        // Numberless calls are never repeats, so numbered calls repeat a little more often.
        let law = calls_per_client(
            REPEAT_SHARE / (1.0 - NUMBERLESS_SHARE),
            MAX_CALLS_PER_CLIENT,
        );
        let span = (population.end_ms - population.start_ms) as f64;
        let mut slots = Vec::new();
        let mut next_client: u32 = 0;
        let mut top_client = (NO_CLIENT, 0u64);
        for (company_index, company) in population.companies.iter().enumerate() {
            let mut rng = Rng::stream(seed, 10, company_index as u64);
            let company_id = company_index as u16;
            let numberless = (company.calls as f64 * NUMBERLESS_SHARE).round() as u64;
            for _ in 0..numberless {
                let at = population.start_ms + (rng.unit() * span) as i64;
                slots.push(Slot {
                    at_ms: at,
                    company: company_id,
                    client: NO_CLIENT,
                });
            }
            let numbered = company.calls - numberless;
            let mut allocated = 0u64;
            while allocated < numbered {
                let count = (law.sample(&mut rng) as u64 + 1).min(numbered - allocated);
                let client = next_client;
                next_client += 1;
                if company_index == 0 && count > top_client.1 {
                    top_client = (client, count);
                }
                allocated += count;
                let gaps: Vec<f64> = (1..count)
                    .map(|_| rng.log_uniform(5.0 * MINUTE_MS, 21.0 * 1_440.0 * MINUTE_MS))
                    .collect();
                let total: f64 = gaps.iter().sum();
                // A client's calls must fit in the period: squeeze long histories.
                let scale = if total > 0.95 * span {
                    0.95 * span / total
                } else {
                    1.0
                };
                let mut at = population.start_ms as f64 + rng.unit() * (span - total * scale);
                slots.push(Slot {
                    at_ms: at as i64,
                    company: company_id,
                    client,
                });
                for gap in gaps {
                    at += gap * scale;
                    slots.push(Slot {
                        at_ms: at as i64,
                        company: company_id,
                        client,
                    });
                }
            }
        }
        slots.sort_unstable_by_key(|s| (s.at_ms, s.company, s.client));
        let mut by_company = vec![Vec::new(); population.companies.len()];
        for (i, slot) in slots.iter().enumerate() {
            by_company[slot.company as usize].push(i as u32);
        }
        // Every client's first call is not a repeat; the rest of the numbered calls are.
        let numbered = slots.iter().filter(|s| s.client != NO_CLIENT).count() as u64;
        let repeat_share = (numbered - u64::from(next_client)) as f64 / slots.len().max(1) as f64;
        Self {
            slots,
            by_company,
            repeat_share,
            top_client,
        }
    }
}

/// A client's number in E.164: distinct for every client index below 10^7.
pub fn phone(client: u32) -> String {
    let prefix = PHONE_PREFIXES[client as usize % PHONE_PREFIXES.len()];
    // Multiplying by a constant coprime to 10 permutes 0..10^7.
    let digits = (u64::from(client) * 7_654_321 + 1_234_567) % 10_000_000;
    format!("+998{prefix}{digits:07}")
}

/// What the audit generator needs to know about a record without generating it.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub id: Uuid,
    pub created_ms: i64,
    /// `None` when the file name did not say (then the call time is the upload time).
    pub started_ms: Option<i64>,
}

/// The id and times of call `index`: a pure function, so both generators agree.
pub fn identity(seed: u64, index: usize, slot: &Slot, end_ms: i64) -> Identity {
    let mut rng = Rng::stream(seed, 20, index as u64);
    let known = rng.chance(0.9);
    let delay = rng.log_uniform(30_000.0, 6.0 * 60.0 * MINUTE_MS) as i64;
    let created_ms = (slot.at_ms + delay).min(end_ms);
    Identity {
        id: rng.uuid_v7(created_ms),
        created_ms,
        started_ms: known.then_some(slot.at_ms),
    }
}

/// What the record generator reports back.
pub struct Written {
    /// The newest analysed call of the first company.
    pub similar_target: Option<Uuid>,
    /// Every processed call (status `done`), in call-time order: what the ledger charges and
    /// the verdict writer needs.
    pub processed: Vec<Processed>,
    /// The first company's calls per operator code (index into its `operator_codes`).
    pub first_company_codes: Vec<u64>,
}

/// A processed call, compactly.
#[derive(Debug, Clone, Copy)]
pub struct Processed {
    /// Index into the schedule's slots.
    pub index: u32,
    pub id: Uuid,
    pub company: u16,
    /// Index into the company's `operator_codes`.
    pub code: u16,
    /// Index into `Population::accounts`.
    pub owner: u32,
    pub call_at: i64,
    /// When processing finished (`updated_at`).
    pub done_ms: i64,
    pub duration_ms: i64,
    /// The checklist (index into the company's `checklists`) and version (index into its
    /// `versions`) the call was scored against, if it was.
    pub checklist: Option<(u8, u8)>,
}

/// Columns added by later migrations that the generator fills when the schema has them.
pub const OPTIONAL_RECORD_COLUMNS: [&str; 2] = ["sentiment_client", "sentiment_operator"];

/// The COPY column list: `RECORD_COLUMNS`, then the optional ones the schema has (`extra`).
pub fn record_columns(extra: bool) -> Vec<&'static str> {
    let mut columns = RECORD_COLUMNS.to_vec();
    if extra {
        columns.extend(OPTIONAL_RECORD_COLUMNS);
    }
    columns
}

pub const RECORD_COLUMNS: [&str; 32] = [
    "id",
    "owner_id",
    "company_id",
    "operator_code",
    "client_phone_number",
    "call_type",
    "call_started_at",
    "duration_ms",
    "status",
    "general",
    "original_filename",
    "content_type",
    "size_bytes",
    "storage_key",
    "payload",
    "error",
    "created_at",
    "updated_at",
    "deleted_at",
    "reserved_amount",
    "sentiment",
    "transcript_text",
    "processing_round",
    "checklist_id",
    "checklist_version",
    "row_version",
    "call_at",
    "call_purpose",
    "customer_satisfied",
    "key_words",
    "checklist_score",
    "checklist_compliant",
];

/// Writes every call as a `record` row (columns in `record_columns(extra)` order).
pub fn write_records(
    sink: &mut Sink,
    seed: u64,
    population: &Population,
    schedule: &Schedule,
    extra: bool,
) -> Result<Written> {
    let words = Weighted::zipf(KEY_WORDS.len(), 1.0);
    let uploader_laws: Vec<Weighted> = population
        .companies
        .iter()
        .map(|c| Weighted::zipf(c.uploaders.len(), 0.8))
        .collect();
    let code_laws: Vec<Weighted> = population
        .companies
        .iter()
        .map(|c| Weighted::zipf(c.operator_codes.len(), 0.5))
        .collect();
    let mut similar_target = None;
    let mut processed = Vec::with_capacity(schedule.slots.len());
    let mut first_company_codes = vec![0u64; population.companies[0].operator_codes.len()];
    for (index, slot) in schedule.slots.iter().enumerate() {
        let company = &population.companies[slot.company as usize];
        let who = identity(seed, index, slot, population.end_ms);
        let mut rng = Rng::stream(seed, 21, index as u64);
        let status = match rng.unit() {
            u if u < DONE_SHARE => RecordStatus::Done,
            u if u < 0.97 => RecordStatus::Uploaded,
            _ => RecordStatus::Failed,
        };
        let duration_ms = rng.log_uniform(15_000.0, 20.0 * MINUTE_MS) as i64;
        let (format, bytes_per_ms) = match rng.unit() {
            u if u < 0.8 => (AudioFormat::Mp3, 16),
            u if u < 0.9 => (AudioFormat::Wav, 16),
            u if u < 0.95 => (AudioFormat::Ogg, 8),
            _ => (AudioFormat::Mp4, 12),
        };
        let call_type = if rng.chance(0.7) {
            CallType::Inbound
        } else {
            CallType::Outbound
        };
        let code_index = code_laws[slot.company as usize].sample(&mut rng);
        let code = &company.operator_codes[code_index];
        let owner_index = company.uploaders[uploader_laws[slot.company as usize].sample(&mut rng)];
        let owner = population.accounts[owner_index].id;
        if slot.company == 0 {
            first_company_codes[code_index] += 1;
        }
        let phone = (slot.client != NO_CLIENT).then(|| phone(slot.client));
        let file_name = file_name(slot.at_ms, code, phone.as_deref(), call_type, format, index);
        let id_text = who.id.to_string();
        let storage_key = format!("{}/{id_text}.{}", &id_text[..2], format.extension());

        let analysed = (status == RecordStatus::Done).then(|| {
            analyse(
                &mut rng,
                &words,
                &company.purposes,
                call_type,
                duration_ms as u64,
            )
        });
        let updated_ms = match status {
            RecordStatus::Uploaded => who.created_ms,
            _ => (who.created_ms + rng.between(20_000, 300_000)).min(population.end_ms),
        };
        let general = analysed.is_some() || rng.chance(0.5);
        let mut payload = analysed.unwrap_or_default();
        let call_at = who.started_ms.unwrap_or(who.created_ms);
        // A share of the analysed calls is scored against their operator's checklist, in
        // the version current at the call's time.
        let checked = (status == RecordStatus::Done
            && Rng::stream(seed, 22, index as u64).chance(CHECKED_SHARE))
        .then(|| {
            let list = company.operator_checklists[code_index];
            let checklist = &company.checklists[list];
            let version = checklist.version_at(call_at);
            (list, version)
        });
        if let Some((list, version)) = checked {
            let checklist = &company.checklists[list];
            payload.checklist = Some(review(
                seed,
                index,
                checklist.template,
                &checklist.versions[version],
                duration_ms,
                operator_skill(seed, slot.company as usize, code_index),
                population.progress(call_at),
            )?);
        }
        let result = payload.checklist.as_ref();
        if status == RecordStatus::Done {
            processed.push(Processed {
                index: index as u32,
                id: who.id,
                company: slot.company,
                code: code_index as u16,
                owner: owner_index as u32,
                call_at,
                done_ms: updated_ms,
                duration_ms,
                checklist: checked.map(|(list, version)| (list as u8, version as u8)),
            });
        }
        let general_analysis = payload.general.as_ref();
        let transcript_text = payload.transcript.as_ref().map(|turns| {
            turns
                .iter()
                .map(|t| t.text.to_lowercase())
                .collect::<Vec<_>>()
                .join("\n")
        });
        let key_words = general_analysis
            .map(|g| Value::Array(g.key_words.iter().cloned().map(Value::String).collect()));
        if slot.company == 0 && status == RecordStatus::Done {
            similar_target = Some(who.id);
        }
        let mut row = sink.row()?;
        row.uuid(who.id)
            .uuid(owner)
            .uuid(company.id)
            .text(code)
            .opt_text(phone.as_deref())
            .text(call_type.as_str())
            .opt_int(who.started_ms)
            .int(duration_ms)
            .text(status.as_str())
            .boolean(general)
            .text(&file_name)
            .text(format.mime())
            .int(duration_ms * bytes_per_ms)
            .text(&storage_key)
            .text(&serde_json::to_string(&payload)?)
            .opt_text(
                (status == RecordStatus::Failed)
                    .then_some("speech-to-text: the provider timed out (5 attempts)"),
            )
            .int(who.created_ms)
            .int(updated_ms)
            .null()
            .int(0)
            .opt_text(general_analysis.map(|g| g.sentiment_conversation.value.as_str()))
            .opt_text(transcript_text.as_deref())
            .int(1)
            .opt_uuid(result.map(|r| r.checklist_id.as_uuid()))
            .opt_int(result.map(|r| i64::from(r.version)))
            .int(0)
            .int(call_at)
            .opt_text(general_analysis.map(|g| g.call_purpose.as_str()))
            .opt_bool(general_analysis.map(|g| g.is_customer_satisfied))
            .opt_text(key_words.map(|k| k.to_string()).as_deref())
            .opt_float(result.map(|r| r.score))
            .opt_bool(result.map(|r| r.compliant));
        if extra {
            row.opt_text(general_analysis.map(|g| g.sentiment_client.value.as_str()))
                .opt_text(general_analysis.map(|g| g.sentiment_operator.value.as_str()));
        }
        row.end();
    }
    Ok(Written {
        similar_target,
        processed,
        first_company_codes,
    })
}

/// The OnlinePBX name when the call has a number (`YY.MM.DD-HH:MM:SS_<ext>_<number>` for
/// outbound, number first for inbound; PBX local time, UTC+5), else a plain name.
fn file_name(
    at_ms: i64,
    code: &str,
    phone: Option<&str>,
    call_type: CallType,
    format: AudioFormat,
    index: usize,
) -> String {
    let Some(phone) = phone else {
        return format!("call-{index}.{}", format.extension());
    };
    let local = OffsetDateTime::from_unix_timestamp(at_ms / 1000 + 5 * 3600)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let stamp = format!(
        "{:02}.{:02}.{:02}-{:02}:{:02}:{:02}",
        local.year() % 100,
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    );
    let national = &phone[4..];
    match call_type {
        CallType::Outbound => format!("{stamp}_{code}_{national}.{}", format.extension()),
        CallType::Inbound => format!("{stamp}_{national}_{code}.{}", format.extension()),
    }
}

/// Transcript, metrics and general analysis of an analysed call, consistent with each other.
fn analyse(
    rng: &mut Rng,
    words: &Weighted,
    purposes: &[&str],
    call_type: CallType,
    duration_ms: u64,
) -> RecordPayload {
    let mut key_words: Vec<String> = Vec::new();
    let wanted = rng.between(3, 6) as usize;
    while key_words.len() < wanted {
        let word = KEY_WORDS[words.sample(rng)];
        if !key_words.iter().any(|k| k == word) {
            key_words.push(word.to_owned());
        }
    }
    let purpose = if rng.chance(0.1) {
        "other"
    } else {
        purposes[Weighted::zipf(purposes.len(), 0.7).sample(rng)]
    };
    let conversation = match (purpose, rng.unit()) {
        ("complaint", u) if u < 0.55 => SentimentValue::Negative,
        ("complaint", _) => SentimentValue::Neutral,
        (_, u) if u < 0.45 => SentimentValue::Positive,
        (_, u) if u < 0.80 => SentimentValue::Neutral,
        _ => SentimentValue::Negative,
    };
    let satisfied = rng.chance(match conversation {
        SentimentValue::Positive => 0.9,
        SentimentValue::Neutral => 0.6,
        SentimentValue::Negative => 0.15,
    });
    let client = if rng.chance(0.8) {
        conversation
    } else {
        SentimentValue::Neutral
    };
    // Operators mostly stay polite; a rough call sometimes shows in their tone too.
    let operator = match (conversation, rng.unit()) {
        (SentimentValue::Negative, u) if u < 0.2 => SentimentValue::Negative,
        (_, u) if u < 0.7 => SentimentValue::Positive,
        (_, u) if u < 0.97 => SentimentValue::Neutral,
        _ => SentimentValue::Negative,
    };
    let over = rng.chance(0.92);
    let mut sentiment = |value: SentimentValue| Sentiment {
        value,
        reason: rng.pick(&SENTIMENT_REASONS).to_owned(),
    };
    let general = GeneralAnalysis {
        sentiment_conversation: sentiment(conversation),
        sentiment_client: sentiment(client),
        sentiment_operator: sentiment(operator),
        summary: format!(
            "Mijoz {} bo'yicha qo'ng'iroq qildi: {}, {}.",
            purpose, key_words[0], key_words[1]
        ),
        call_purpose: purpose.to_owned(),
        is_conversation_over: over,
        is_customer_satisfied: satisfied,
        key_words: key_words.clone(),
    };

    let turns_count = rng.between(4, 7) as u64;
    let slice = duration_ms / turns_count;
    // Inbound: the operator answers first; outbound: the customer does.
    let operator_first = call_type == CallType::Inbound;
    let transcript: Vec<Turn> = (0..turns_count)
        .map(|i| {
            let operator = (i % 2 == 0) == operator_first;
            let template = if operator {
                rng.pick(&OPERATOR_LINES)
            } else {
                rng.pick(&CUSTOMER_LINES)
            };
            let text = template
                .replace(
                    "{a}",
                    &key_words[rng.below(key_words.len() as u64) as usize],
                )
                .replace(
                    "{b}",
                    &key_words[rng.below(key_words.len() as u64) as usize],
                );
            Turn {
                speaker: if i % 2 == 0 { "0" } else { "1" }.to_owned(),
                role: if operator {
                    SpeakerRole::Operator
                } else {
                    SpeakerRole::Customer
                },
                start_ms: i * slice + 300,
                end_ms: (i + 1) * slice,
                text,
            }
        })
        .collect();
    RecordPayload {
        metrics: Some(compute_metrics(&transcript)),
        transcript: Some(transcript),
        general: Some(general),
        checklist: None,
        rejected_reply: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164_and_distinct() {
        let phones: std::collections::HashSet<String> = (0..100_000).map(phone).collect();
        assert_eq!(phones.len(), 100_000);
        let one = phone(42);
        assert!(one.starts_with("+998") && one.len() == 13, "{one}");
    }

    #[test]
    fn an_analysed_payload_reads_back_as_the_domain_type() {
        let mut rng = Rng::new(3);
        let words = Weighted::zipf(KEY_WORDS.len(), 1.0);
        let payload = analyse(&mut rng, &words, &["sales"], CallType::Inbound, 90_000);
        let json = serde_json::to_value(&payload).unwrap();
        let back: RecordPayload = serde_json::from_value(json).unwrap();
        assert_eq!(back, payload);
        let general = back.general.unwrap();
        assert!((3..=6).contains(&general.key_words.len()));
        assert!(["sales", "other"].contains(&general.call_purpose.as_str()));
    }
}
