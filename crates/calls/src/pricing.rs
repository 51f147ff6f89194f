//! Per-minute prices, charged per started second of audio, in minor units.

/// Prices per minute of audio, in minor units (1/100 so'm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    pub stt_per_minute: i64,
    pub general_per_minute: i64,
    pub checklist_per_minute: i64,
}

impl Default for Prices {
    /// The original product's 630 / 210 / 360 so'm per minute.
    fn default() -> Self {
        Self {
            stt_per_minute: 63_000,
            general_per_minute: 21_000,
            checklist_per_minute: 36_000,
        }
    }
}

/// What one call costs, step by step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallPrice {
    pub stt: i64,
    pub general: i64,
    pub checklist: i64,
}

impl CallPrice {
    pub fn total(&self) -> i64 {
        self.stt + self.general + self.checklist
    }
}

impl Prices {
    /// The price of a call of `duration_ms`: transcription always, the general and checklist
    /// analyses when asked for. Each step is rounded up to a whole minor unit.
    pub fn price(&self, duration_ms: u64, general: bool, checklist: bool) -> CallPrice {
        let seconds = duration_ms.div_ceil(1000);
        let step = |per_minute: i64| {
            let total = i128::from(per_minute) * i128::from(seconds);
            i64::try_from((total + 59) / 60).unwrap_or(i64::MAX)
        };
        CallPrice {
            stt: step(self.stt_per_minute),
            general: if general {
                step(self.general_per_minute)
            } else {
                0
            },
            checklist: if checklist {
                step(self.checklist_per_minute)
            } else {
                0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_costs_the_per_minute_price() {
        let price = Prices::default().price(60_000, true, true);
        assert_eq!(
            price,
            CallPrice {
                stt: 63_000,
                general: 21_000,
                checklist: 36_000
            }
        );
        assert_eq!(price.total(), 120_000);
    }

    #[test]
    fn started_seconds_count_and_fractions_round_up() {
        let prices = Prices {
            stt_per_minute: 100,
            general_per_minute: 7,
            checklist_per_minute: 0,
        };
        // 1.2 s is charged as 2 s: 100 * 2 / 60 = 3.33 → 4; 7 * 2 / 60 = 0.23 → 1.
        assert_eq!(
            prices.price(1_200, true, false),
            CallPrice {
                stt: 4,
                general: 1,
                checklist: 0
            }
        );
        assert_eq!(prices.price(0, true, true).total(), 0);
        assert_eq!(prices.price(90_000, false, false).stt, 150);
    }
}
