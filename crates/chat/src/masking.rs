//! Personal data masked out of text before it leaves for the model: payment card numbers and
//! phone numbers. What is stored (the transcript, the user's question) stays as it was.
//!
//! A number is a run of digits in which single separators (space, `-`, `.`, parentheses; at
//! most two in a row, as in `) `) may stand between digits, optionally after a `+`. Counting
//! its digits: with a leading `+`, 9 to 15 are a phone number; otherwise 13 to 19 are a card
//! number and 9 to 12 a phone number (Uzbek numbers have 9 digits, 12 with the country code).
//! Shorter runs (amounts, times, dates) are left alone; numbers spoken as words are not
//! recognised.

/// Replaces a card number.
pub const CARD_MASK: &str = "[card number]";
/// Replaces a phone number.
pub const PHONE_MASK: &str = "[phone number]";

const SEPARATORS: [char; 5] = [' ', '-', '.', '(', ')'];

/// `text` with card and phone numbers replaced by [`CARD_MASK`] and [`PHONE_MASK`].
pub fn mask_pii(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut masked = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let opens = chars[i].is_ascii_digit() || (matches!(chars[i], '+' | '(') && next_is_digit);
        let inside_word = i > 0 && chars[i - 1].is_alphanumeric();
        if !opens || inside_word {
            masked.push(chars[i]);
            i += 1;
            continue;
        }
        let plus = chars[i] == '+';
        let (end, digits) = number_run(&chars, i);
        match mask_for(plus, digits) {
            Some(mask) => masked.push_str(mask),
            None => masked.extend(&chars[i..end]),
        }
        i = end;
    }
    masked
}

/// The end (exclusive) of the number starting at `start`, and how many digits it has.
fn number_run(chars: &[char], start: usize) -> (usize, usize) {
    let mut j = start + usize::from(!chars[start].is_ascii_digit());
    let (mut end, mut digits) = (j, 0);
    loop {
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            digits += 1;
            j += 1;
            end = j;
            continue;
        }
        let separators = chars[j.min(chars.len())..]
            .iter()
            .take(2)
            .take_while(|c| SEPARATORS.contains(c))
            .count();
        if separators > 0 && chars.get(j + separators).is_some_and(char::is_ascii_digit) {
            j += separators;
            continue;
        }
        return (end, digits);
    }
}

fn mask_for(plus: bool, digits: usize) -> Option<&'static str> {
    match (plus, digits) {
        (true, 9..=15) => Some(PHONE_MASK),
        (false, 13..=19) => Some(CARD_MASK),
        (false, 9..=12) => Some(PHONE_MASK),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_and_phones_are_masked_in_any_common_notation() {
        for (text, expected) in [
            (
                "Karta raqamim 8600 1234 5678 9012, tekshiring",
                "Karta raqamim [card number], tekshiring",
            ),
            ("card 4276-3800-1234-5678-123", "card [card number]"),
            ("karta 8600123456789012", "karta [card number]"),
            (
                "Raqamim +998 90 123-45-67, qo'ng'iroq qiling",
                "Raqamim [phone number], qo'ng'iroq qiling",
            ),
            ("звоните 90 123 45 67.", "звоните [phone number]."),
            ("(90) 123-45-67", "[phone number]"),
            ("998901234567", "[phone number]"),
        ] {
            assert_eq!(mask_pii(text), expected, "{text}");
        }
    }

    #[test]
    fn amounts_times_and_short_numbers_are_kept() {
        for text in [
            "Tarif 120 000 so'm turadi",
            "Soat 14:30 da, 2026-11-29 kuni",
            "Buyurtma A123456789 tayyor",
            "3.5 GB",
            "",
        ] {
            assert_eq!(mask_pii(text), text);
        }
    }
}
