//! How every figure is rounded: shares in percent and minutes with two decimals, so the
//! same numbers appear in JSON, CSV and PDF.

/// `part` of `whole` in percent, two decimals; `None` when `whole` is zero (a rate of
/// nothing is unknown, not 0 %).
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round2(100.0 * part as f64 / whole as f64))
}

/// Milliseconds as minutes, two decimals.
pub fn minutes(ms: u64) -> f64 {
    round2(ms as f64 / 60_000.0)
}

pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_minutes_have_two_decimals() {
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(1, 0), None);
        assert_eq!(minutes(2_500), 0.04);
        assert_eq!(minutes(90_000), 1.5);
    }
}
