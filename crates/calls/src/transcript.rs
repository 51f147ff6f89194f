//! Transcripts as speaker turns, and which speaker is the operator.

use serde::{Deserialize, Serialize};

use crate::CallType;

/// Who a speaker is in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpeakerRole {
    Operator,
    Customer,
}

/// One uninterrupted stretch of one speaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// The provider's speaker label (`"0"`, `"1"`, …).
    pub speaker: String,
    pub role: SpeakerRole,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// A word or segment as a provider returns it, before turns are formed.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    pub speaker: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// Joins consecutive utterances of one speaker into turns and assigns roles.
///
/// The rule for who is the operator: on an inbound call the operator answers, so the first
/// speaker is the operator; on an outbound call the operator dials and the customer answers,
/// so the first speaker is the customer and the next distinct speaker the operator; with an
/// unknown direction the first speaker is taken as the operator. A single-speaker transcript
/// (no diarization) is all operator. `PATCH /records/{id}` corrects a wrong guess.
pub fn build_turns(utterances: &[Utterance], call_type: Option<CallType>) -> Vec<Turn> {
    let mut speakers: Vec<&str> = Vec::new();
    for u in utterances {
        if !speakers.contains(&u.speaker.as_str()) {
            speakers.push(&u.speaker);
        }
    }
    let operator = match call_type {
        Some(CallType::Outbound) if speakers.len() > 1 => speakers[1],
        _ => speakers.first().copied().unwrap_or_default(),
    }
    .to_owned();
    assign_roles(merge(utterances), &operator)
}

/// Re-labels turns after a correction: `operator` is the operator's speaker label.
pub fn assign_roles(turns: Vec<Turn>, operator: &str) -> Vec<Turn> {
    turns
        .into_iter()
        .map(|turn| Turn {
            role: if turn.speaker == operator {
                SpeakerRole::Operator
            } else {
                SpeakerRole::Customer
            },
            ..turn
        })
        .collect()
}

fn merge(utterances: &[Utterance]) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for u in utterances {
        let text = u.text.trim();
        if text.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.speaker == u.speaker => {
                last.end_ms = last.end_ms.max(u.end_ms);
                last.text.push(' ');
                last.text.push_str(text);
            }
            _ => turns.push(Turn {
                speaker: u.speaker.clone(),
                role: SpeakerRole::Customer,
                start_ms: u.start_ms,
                end_ms: u.end_ms.max(u.start_ms),
                text: text.to_owned(),
            }),
        }
    }
    turns
}

/// The transcript as plain text, one `Role: text` line per turn (what the analyser reads).
pub fn as_dialogue(turns: &[Turn]) -> String {
    turns
        .iter()
        .map(|t| {
            let who = match t.role {
                SpeakerRole::Operator => "Operator",
                SpeakerRole::Customer => "Customer",
            };
            format!("[{:.1}s] {who}: {}", t.start_ms as f64 / 1000.0, t.text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(speaker: &str, start: u64, end: u64, text: &str) -> Utterance {
        Utterance {
            speaker: speaker.into(),
            start_ms: start,
            end_ms: end,
            text: text.into(),
        }
    }

    fn words() -> Vec<Utterance> {
        vec![
            u("0", 0, 400, "Assalomu"),
            u("0", 400, 900, "alaykum"),
            u("1", 1200, 1500, "Salom"),
            u("0", 1700, 2000, "Qanday"),
            u("0", 2000, 2300, " "),
        ]
    }

    #[test]
    fn consecutive_words_of_one_speaker_make_a_turn() {
        let turns = build_turns(&words(), Some(CallType::Inbound));
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0].text, "Assalomu alaykum");
        assert_eq!((turns[0].start_ms, turns[0].end_ms), (0, 900));
        assert_eq!(turns[0].role, SpeakerRole::Operator);
        assert_eq!(turns[1].role, SpeakerRole::Customer);
    }

    #[test]
    fn on_outbound_calls_the_customer_speaks_first() {
        let turns = build_turns(&words(), Some(CallType::Outbound));
        assert_eq!(turns[0].role, SpeakerRole::Customer);
        assert_eq!(turns[1].role, SpeakerRole::Operator);
        let corrected = assign_roles(turns, "0");
        assert_eq!(corrected[0].role, SpeakerRole::Operator);
    }

    #[test]
    fn a_single_speaker_is_the_operator() {
        let turns = build_turns(&[u("0", 0, 1000, "hello")], Some(CallType::Outbound));
        assert_eq!(turns[0].role, SpeakerRole::Operator);
        assert!(as_dialogue(&turns).contains("Operator: hello"));
    }
}
