//! The model's reply: its answer and the citations that survive the check against the
//! transcript. A citation names a turn and quotes it; one whose turn does not exist or whose
//! quote is not in that turn's text (compared case-insensitively with whitespace collapsed,
//! surrounding quotation marks and ellipses ignored) is dropped, never repaired or invented.

use dialix_calls::Turn;
use dialix_kernel::RecordId;
use serde::Deserialize;

use crate::Citation;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    answer: String,
    citations: Vec<Cited>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cited {
    turn: i64,
    quote: String,
}

/// A turn as the model saw it, with the call it belongs to; the model cites turns by their
/// place (1-based) in the prompt's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedTurn {
    pub record: RecordId,
    pub turn: Turn,
}

/// The answer and its checked citations; the error says what was wrong with the reply.
/// `turns` are the transcripts' turns as the model saw and numbered them.
pub fn parse_answer(reply: &str, turns: &[SourcedTurn]) -> Result<(String, Vec<Citation>), String> {
    let reply: Reply =
        serde_json::from_str(reply.trim()).map_err(|e| format!("not the expected JSON: {e}"))?;
    let answer = reply.answer.trim();
    if answer.is_empty() {
        return Err("the answer is empty".into());
    }
    let mut citations: Vec<Citation> = Vec::new();
    for cited in reply.citations {
        let Some(citation) = check(&cited, turns) else {
            continue;
        };
        if !citations.contains(&citation) {
            citations.push(citation);
        }
    }
    Ok((answer.to_owned(), citations))
}

/// The citation of `cited` if its turn exists and contains its quote.
fn check(cited: &Cited, turns: &[SourcedTurn]) -> Option<Citation> {
    let index = usize::try_from(cited.turn).ok()?.checked_sub(1)?;
    let SourcedTurn { record, turn } = turns.get(index)?;
    let quote = trim_marks(&cited.quote);
    let wanted = normalise(quote);
    if wanted.is_empty() || !normalise(&turn.text).contains(&wanted) {
        return None;
    }
    Some(Citation {
        record_id: *record,
        start_ms: turn.start_ms,
        end_ms: turn.end_ms,
        speaker: turn.role,
        quote: quote.to_owned(),
    })
}

/// Quotation marks, ellipses and trailing sentence punctuation models put around quotes.
fn trim_marks(quote: &str) -> &str {
    quote
        .trim()
        .trim_matches(|c: char| "\"'«»“”„…".contains(c))
        .trim_end_matches(['.', ',', '!', '?', ';'])
        .trim()
}

/// Lower case with runs of whitespace as one space.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use dialix_calls::SpeakerRole;
    use serde_json::json;

    use super::*;

    fn turns(record: RecordId) -> Vec<SourcedTurn> {
        let turn = |role, start_ms, end_ms, text: &str| Turn {
            speaker: "0".into(),
            role,
            start_ms,
            end_ms,
            text: text.into(),
        };
        [
            turn(SpeakerRole::Operator, 0, 800, "Assalomu alaykum."),
            turn(
                SpeakerRole::Customer,
                1000,
                1600,
                "Tariflar   haqida bilmoqchi edim.",
            ),
        ]
        .into_iter()
        .map(|turn| SourcedTurn { record, turn })
        .collect()
    }

    #[test]
    fn citations_that_match_are_kept_and_mapped_to_the_turn() {
        let record = RecordId::generate();
        let reply = json!({
            "answer": " The customer asked about tariffs. ",
            "citations": [
                {"turn": 2, "quote": "«TARIFLAR haqida»"},
                {"turn": 2, "quote": "Tariflar haqida"},
                {"turn": 1, "quote": "Assalomu alaykum..."}
            ]
        });
        let (answer, citations) = parse_answer(&reply.to_string(), &turns(record)).unwrap();
        assert_eq!(answer, "The customer asked about tariffs.");
        assert_eq!(
            citations,
            [
                Citation {
                    record_id: record,
                    start_ms: 1000,
                    end_ms: 1600,
                    speaker: SpeakerRole::Customer,
                    quote: "TARIFLAR haqida".into(),
                },
                Citation {
                    record_id: record,
                    start_ms: 1000,
                    end_ms: 1600,
                    speaker: SpeakerRole::Customer,
                    quote: "Tariflar haqida".into(),
                },
                Citation {
                    record_id: record,
                    start_ms: 0,
                    end_ms: 800,
                    speaker: SpeakerRole::Operator,
                    quote: "Assalomu alaykum".into(),
                },
            ]
        );
    }

    #[test]
    fn invented_citations_are_dropped() {
        let reply = json!({
            "answer": "The operator promised a discount.",
            "citations": [
                {"turn": 7, "quote": "Assalomu alaykum"},
                {"turn": 0, "quote": "Assalomu alaykum"},
                {"turn": -1, "quote": "Assalomu alaykum"},
                {"turn": 1, "quote": "I promise a discount"},
                {"turn": 2, "quote": "  "}
            ]
        });
        let (_, citations) =
            parse_answer(&reply.to_string(), &turns(RecordId::generate())).unwrap();
        assert!(citations.is_empty());
    }

    #[test]
    fn a_reply_that_is_not_the_answer_json_is_refused() {
        let record = RecordId::generate();
        for reply in [
            "plain text",
            r#"{"answer": "x"}"#,
            r#"{"answer": "", "citations": []}"#,
            r#"{"answer": "x", "citations": [], "extra": 1}"#,
        ] {
            assert!(parse_answer(reply, &turns(record)).is_err(), "{reply}");
        }
    }
}
