//! What the records listing searches for: a client number (whole or partial) and words of the
//! transcript, parsed once here so both databases answer the same question.

use crate::phone::normalise_phone;
use crate::{SpeakerRole, Turn};

/// A `phone` filter: a whole number is matched exactly (one index lookup), anything shorter
/// as digits anywhere in the number ("the last 7 digits").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneSearch {
    /// E.164, as numbers are stored.
    Exact(String),
    /// Digits only.
    Partial(String),
}

impl PhoneSearch {
    /// Whole: with `+` or `00`, 9 national digits (the default country code is added, as on
    /// upload), or 11 digits and more. Shorter digit runs are partial. Letters are an error.
    pub fn parse(raw: &str, default_country_code: &str) -> Result<Self, &'static str> {
        const MESSAGE: &str = "must be a phone number or part of one: digits, with an optional \
                               leading + and spaces, dashes, dots or parentheses";
        let trimmed = raw.trim();
        if trimmed.chars().count() > MAX_PHONE_CHARS {
            return Err("must be at most 32 characters");
        }
        if !trimmed.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0)
        }) {
            return Err(MESSAGE);
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(MESSAGE);
        }
        let whole_shaped = trimmed.starts_with('+')
            || digits.starts_with("00")
            || digits.len() == 9
            || digits.len() >= 11;
        Ok(match normalise_phone(trimmed, default_country_code) {
            Some(number) if whole_shaped => Self::Exact(number),
            _ => Self::Partial(digits),
        })
    }
}

/// Longest accepted `phone` filter, in characters.
pub const MAX_PHONE_CHARS: usize = 32;

/// Longest accepted transcript query, in words and in characters; longer ones are refused,
/// not cut.
pub const MAX_QUERY_WORDS: usize = 12;
pub const MAX_QUERY_CHARS: usize = 200;

/// A `transcript_contains` filter: its words in order, each matching a transcript word that
/// starts with it (Uzbek and Russian add endings: `to'lov` finds `to'lovni`). Words are runs
/// of letters and digits, lower-cased; everything else separates them, as in both databases'
/// full-text tokenisers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptQuery {
    words: Vec<String>,
}

impl TranscriptQuery {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.trim().chars().count() > MAX_QUERY_CHARS {
            return Err("must be at most 200 characters");
        }
        let words = words_of(raw);
        if words.is_empty() {
            return Err("must contain a word (letters or digits)");
        }
        if words.len() > MAX_QUERY_WORDS {
            return Err("must have at most 12 words");
        }
        Ok(Self { words })
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The first turn holding the words in order, with where it is in the call.
    pub fn find_in(&self, turns: &[Turn]) -> Option<TranscriptHit> {
        turns.iter().find_map(|turn| {
            let spans = word_spans(&turn.text);
            let at = spans.windows(self.words.len()).position(|window| {
                window
                    .iter()
                    .zip(&self.words)
                    .all(|((_, word), wanted)| word.starts_with(wanted.as_str()))
            })?;
            let first = spans[at].0.start;
            let last = spans[at + self.words.len() - 1].0.end;
            Some(TranscriptHit {
                speaker: turn.speaker.clone(),
                role: turn.role,
                start_ms: turn.start_ms,
                end_ms: turn.end_ms,
                snippet: snippet(&turn.text, first, last),
            })
        })
    }
}

/// Where a transcript search matched: the turn, its time in the call and the words around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptHit {
    pub speaker: String,
    pub role: SpeakerRole,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The matching words with up to [`SNIPPET_CONTEXT`] characters either side, cut at word
    /// boundaries and marked with `…` where cut.
    pub snippet: String,
}

/// Characters of context kept on each side of a match.
pub const SNIPPET_CONTEXT: usize = 60;

fn words_of(text: &str) -> Vec<String> {
    word_spans(text).into_iter().map(|(_, word)| word).collect()
}

/// Each word's byte range in `text` and its lower-cased form.
fn word_spans(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s..i, text[s..i].to_lowercase()));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

fn snippet(text: &str, first: usize, last: usize) -> String {
    let from = boundary_before(text, first);
    let to = boundary_after(text, last);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(text[from..to].trim());
    if to < text.len() {
        out.push('…');
    }
    out
}

/// Start of the word at most [`SNIPPET_CONTEXT`] characters before `at`.
fn boundary_before(text: &str, at: usize) -> usize {
    let head = &text[..at];
    match head.char_indices().rev().nth(SNIPPET_CONTEXT - 1) {
        None => 0,
        Some((limit, _)) => head[limit..]
            .find(char::is_whitespace)
            .map_or(at, |space| limit + space),
    }
}

/// End of the word at most [`SNIPPET_CONTEXT`] characters after `at`.
fn boundary_after(text: &str, at: usize) -> usize {
    let tail = &text[at..];
    match tail.char_indices().nth(SNIPPET_CONTEXT) {
        None => text.len(),
        Some((limit, _)) => tail[..limit]
            .rfind(char::is_whitespace)
            .map_or(at, |space| at + space),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: &str, start_ms: u64, text: &str) -> Turn {
        Turn {
            speaker: speaker.into(),
            role: if speaker == "0" {
                SpeakerRole::Operator
            } else {
                SpeakerRole::Customer
            },
            start_ms,
            end_ms: start_ms + 4_000,
            text: text.into(),
        }
    }

    #[test]
    fn whole_numbers_are_exact_and_short_digit_runs_partial() {
        let exact = |n: &str| PhoneSearch::Exact(n.into());
        for (raw, expected) in [
            ("+998 90 123 45 67", exact("+998901234567")),
            ("901234567", exact("+998901234567")),
            ("998901234567", exact("+998901234567")),
            ("00998901234567", exact("+998901234567")),
            ("+7 912 345-67-89", exact("+79123456789")),
            ("1234567", PhoneSearch::Partial("1234567".into())),
            ("45-67", PhoneSearch::Partial("4567".into())),
            ("12345678", PhoneSearch::Partial("12345678".into())),
            ("9123456789", PhoneSearch::Partial("9123456789".into())),
        ] {
            assert_eq!(PhoneSearch::parse(raw, "998"), Ok(expected), "{raw}");
        }
        for raw in [
            "abc",
            "90-12a",
            "",
            " - ",
            "1+2",
            &"1".repeat(MAX_PHONE_CHARS + 1),
        ] {
            assert!(PhoneSearch::parse(raw, "998").is_err(), "{raw}");
        }
    }

    #[test]
    fn queries_are_lower_cased_words_split_like_the_databases_split_them() {
        let query = TranscriptQuery::parse("  To'lov  Call-Center, КЛИЕНТ!").unwrap();
        assert_eq!(
            query.words(),
            ["to", "lov", "call", "center", "клиент"].map(String::from)
        );
        assert!(TranscriptQuery::parse(" ,.!? ").is_err());
        assert!(TranscriptQuery::parse(&"so ".repeat(MAX_QUERY_WORDS + 1)).is_err());
        assert!(TranscriptQuery::parse(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(TranscriptQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }

    #[test]
    fn the_hit_is_the_first_turn_with_the_words_in_order_as_word_prefixes() {
        let turns = [
            turn("0", 0, "Assalomu alaykum, qanday yordam bera olaman?"),
            turn("1", 4_000, "Lov to'g'risida emas"),
            turn(
                "1",
                8_000,
                "Men to'lovni kecha qildim, lekin hisobga tushmadi",
            ),
            turn("0", 12_000, "To'lov raqamini ayting"),
        ];
        let hit = TranscriptQuery::parse("to'lov")
            .unwrap()
            .find_in(&turns)
            .unwrap();
        assert_eq!(
            (hit.speaker.as_str(), hit.start_ms, hit.end_ms),
            ("1", 8_000, 12_000)
        );
        assert_eq!(
            hit.snippet,
            "Men to'lovni kecha qildim, lekin hisobga tushmadi"
        );
        let none = TranscriptQuery::parse("lovni to").unwrap().find_in(&turns);
        assert_eq!(none, None);
    }

    #[test]
    fn long_turns_are_cut_to_the_words_around_the_match() {
        let before = "один два три четыре пять шесть семь восемь девять десять одиннадцать";
        let after = "двенадцать тринадцать четырнадцать пятнадцать шестнадцать семнадцать";
        let text = format!("{before} оплата не прошла {after}");
        let hit = TranscriptQuery::parse("оплата")
            .unwrap()
            .find_in(&[turn("0", 0, &text)])
            .unwrap();
        assert!(hit.snippet.starts_with('…') && hit.snippet.ends_with('…'));
        assert!(hit.snippet.contains("оплата не прошла"));
        let inner = hit.snippet.trim_matches('…');
        assert!(inner.chars().count() <= 2 * SNIPPET_CONTEXT + "оплата".chars().count());
        assert!(before.ends_with(inner.split(" оплата").next().unwrap()));
    }
}
