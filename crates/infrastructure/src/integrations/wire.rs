//! Reading the loosely typed JSON of the PBX and the CRM, which send the same field as a
//! number or as a string.

use dialix_calls::ProviderError;
use serde_json::Value;

/// A string, or a number written out; empty for anything else.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A whole number given as a number or a numeric string.
pub(super) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// A failed exchange, described with its causes but without the URL (a Bitrix24 webhook's URL
/// is its secret): transient unless the request could not even be built.
pub(super) fn network_error(context: &str, error: reqwest::Error) -> ProviderError {
    let error = error.without_url();
    let mut message = format!("{context}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_builder() {
        ProviderError::Permanent(message)
    } else {
        ProviderError::Transient(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_numeric_strings_read_alike() {
        assert_eq!(integer(&json!(42)), Some(42));
        assert_eq!(integer(&json!("1714550400")), Some(1_714_550_400));
        assert_eq!(integer(&json!("12.0")), Some(12));
        assert_eq!(integer(&json!("")), None);
        assert_eq!(integer(&json!(null)), None);
        assert_eq!(text(&json!(101)), "101");
        assert_eq!(text(&json!(" 101 ")), "101");
        assert_eq!(text(&json!(null)), "");
    }
}
