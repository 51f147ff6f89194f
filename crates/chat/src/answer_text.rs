//! The answer's words while the model is still writing its JSON reply (`{"answer": "…",
//! "citations": […]}`): the reply is read character by character and only the decoded
//! characters of the top-level `answer` string are passed on, so a streaming client sees the
//! answer grow and never the JSON around it. Surrounding whitespace is held back the way the
//! stored answer is trimmed, so the pieces join to exactly the stored answer.

use crate::TextSink;

/// Where the reader is in the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Between tokens.
    Outside,
    /// In a key of the top-level object.
    Key,
    /// In a string value: the answer's, or any other.
    Value { answer: bool },
}

/// An escape sequence being read inside a string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Escape {
    None,
    /// After a backslash.
    Started,
    /// After `\u`, with the hex digits so far.
    Unicode(String),
}

/// Reads a JSON reply as it arrives and yields the text of its top-level `answer` string.
#[derive(Debug)]
pub struct AnswerText {
    place: Place,
    escape: Escape,
    /// Object and array nesting; the answer is at depth 1.
    depth: usize,
    /// At depth 1, whether the next string is a key.
    expect_key: bool,
    /// The key being read, then the last key read.
    key: String,
    /// UTF-16 units of `\u` escapes not yet joined into characters (surrogate pairs).
    units: Vec<u16>,
    /// Whether any non-whitespace character of the answer was passed on.
    started: bool,
    /// Whitespace held back until something follows it.
    pending_space: String,
}

impl AnswerText {
    pub fn new() -> Self {
        Self {
            place: Place::Outside,
            escape: Escape::None,
            depth: 0,
            expect_key: false,
            key: String::new(),
            units: Vec::new(),
            started: false,
            pending_space: String::new(),
        }
    }

    /// The answer's characters that `chunk` completes (possibly none).
    pub fn push(&mut self, chunk: &str) -> String {
        let mut out = String::new();
        for c in chunk.chars() {
            match self.place {
                Place::Outside => self.between(c),
                place => self.in_string(c, place, &mut out),
            }
        }
        out
    }

    fn between(&mut self, c: char) {
        match c {
            '{' | '[' => {
                self.depth += 1;
                self.expect_key = c == '{' && self.depth == 1;
            }
            '}' | ']' => self.depth = self.depth.saturating_sub(1),
            ',' if self.depth == 1 => self.expect_key = true,
            ':' if self.depth == 1 => self.expect_key = false,
            '"' if self.depth == 1 && self.expect_key => {
                self.key.clear();
                self.place = Place::Key;
            }
            '"' => {
                let answer = self.depth == 1 && self.key == "answer";
                self.place = Place::Value { answer };
            }
            _ => {}
        }
    }

    fn in_string(&mut self, c: char, place: Place, out: &mut String) {
        let decoded = match std::mem::replace(&mut self.escape, Escape::None) {
            Escape::None => match c {
                '\\' => {
                    self.escape = Escape::Started;
                    return;
                }
                '"' => {
                    self.flush_units(place, out);
                    self.place = Place::Outside;
                    return;
                }
                c => c,
            },
            Escape::Started => match c {
                'u' => {
                    self.escape = Escape::Unicode(String::new());
                    return;
                }
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                other => other,
            },
            Escape::Unicode(mut digits) => {
                digits.push(c);
                if digits.len() < 4 {
                    self.escape = Escape::Unicode(digits);
                } else if let Ok(unit) = u16::from_str_radix(&digits, 16) {
                    self.units.push(unit);
                }
                return;
            }
        };
        self.flush_units(place, out);
        self.emit(decoded, place, out);
    }

    /// Joins pending `\u` units into characters.
    fn flush_units(&mut self, place: Place, out: &mut String) {
        let units = std::mem::take(&mut self.units);
        for c in char::decode_utf16(units) {
            self.emit(c.unwrap_or(char::REPLACEMENT_CHARACTER), place, out);
        }
    }

    fn emit(&mut self, c: char, place: Place, out: &mut String) {
        match place {
            Place::Key => self.key.push(c),
            Place::Value { answer: true } if c.is_whitespace() => {
                if self.started {
                    self.pending_space.push(c);
                }
            }
            Place::Value { answer: true } => {
                self.started = true;
                out.push_str(&std::mem::take(&mut self.pending_space));
                out.push(c);
            }
            Place::Value { answer: false } | Place::Outside => {}
        }
    }
}

/// Passes the answer's words of a streamed reply on to a listener, keeping the whole reply
/// for parsing when it is complete.
pub struct AnswerPieces {
    text: AnswerText,
    listener: Box<dyn TextSink>,
}

impl AnswerPieces {
    pub fn new(listener: Box<dyn TextSink>) -> Self {
        Self {
            text: AnswerText::new(),
            listener,
        }
    }
}

impl TextSink for AnswerPieces {
    fn send(&mut self, reply_piece: &str) -> bool {
        let words = self.text.push(reply_piece);
        if words.is_empty() {
            self.listener.listening()
        } else {
            self.listener.send(&words)
        }
    }

    fn listening(&self) -> bool {
        self.listener.listening()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_of(chunks: &[&str]) -> Vec<String> {
        let mut text = AnswerText::new();
        chunks.iter().map(|chunk| text.push(chunk)).collect()
    }

    #[test]
    fn only_the_answer_string_comes_out_piece_by_piece() {
        let pieces = answer_of(&[
            "{\"ans",
            "wer\": \"The cus",
            "tomer\\nwas \\\"up",
            "set\\\"\", \"citations\": [{\"turn\": 2, \"quote\": \"no\"}]}",
        ]);
        assert_eq!(pieces, ["", "The cus", "tomer\nwas \"up", "set\""]);
    }

    #[test]
    fn escapes_split_across_pieces_and_surrogate_pairs_decode() {
        let pieces = answer_of(&["{\"answer\":\"Sal\\u04", "5e \\ud83d", "\\ude00!\"}"]);
        assert_eq!(pieces.concat(), "Salў 😀!");
    }

    #[test]
    fn surrounding_whitespace_is_dropped_as_the_stored_answer_is_trimmed() {
        let pieces = answer_of(&["{\"answer\": \"  Yes ", " it ", "does \\n\"}"]);
        assert_eq!(pieces.concat(), "Yes  it does");
    }

    #[test]
    fn answer_keys_and_strings_elsewhere_are_not_the_answer() {
        let pieces = answer_of(&[
            "{\"citations\": [{\"quote\": \"answer\", \"answer\": \"x\"}], \"answer\": \"Here\"}",
        ]);
        assert_eq!(pieces.concat(), "Here");
    }
}
