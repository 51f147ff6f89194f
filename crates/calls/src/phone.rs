//! Phone numbers normalised to E.164, so that one client's calls group together however the
//! number was typed or exported.

/// Normalises `raw` to E.164 (`+998901234567`). Spaces, dashes, dots and parentheses are
/// ignored; a leading `00` is an international prefix; a 9-digit national number gets
/// `default_country_code`. `None` when what is left is not a plausible number.
pub fn normalise_phone(raw: &str, default_country_code: &str) -> Option<String> {
    let trimmed = raw.trim();
    let international = trimmed.starts_with('+');
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let digits = if !international && digits.starts_with("00") {
        digits[2..].to_owned()
    } else {
        digits
    };
    let full = if !international && digits.len() == 9 {
        format!("{default_country_code}{digits}")
    } else {
        digits
    };
    ((8..=15).contains(&full.len()) && !full.starts_with('0')).then(|| format!("+{full}"))
}

#[cfg(test)]
mod tests {
    use super::normalise_phone;

    #[test]
    fn uzbek_numbers_in_every_common_shape() {
        for raw in [
            "901234567",
            "90 123 45 67",
            "(90) 123-45-67",
            "998901234567",
            "+998 90 123 45 67",
            "00998901234567",
        ] {
            assert_eq!(
                normalise_phone(raw, "998").as_deref(),
                Some("+998901234567"),
                "{raw}"
            );
        }
    }

    #[test]
    fn other_countries_and_configured_defaults() {
        assert_eq!(
            normalise_phone("+7 912 345 67 89", "998").as_deref(),
            Some("+79123456789")
        );
        assert_eq!(
            normalise_phone("123456789", "7").as_deref(),
            Some("+7123456789")
        );
    }

    #[test]
    fn junk_is_refused() {
        for raw in [
            "",
            "abc",
            "12",
            "90-123-ab",
            "+0123456789",
            "1234567890123456",
        ] {
            assert_eq!(normalise_phone(raw, "998"), None, "{raw}");
        }
    }
}
