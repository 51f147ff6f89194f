//! Conversation metrics computed from the turns, without a language model.

use serde::{Deserialize, Serialize};

use crate::{SpeakerRole, Turn};

/// What the timing of a conversation says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CallMetrics {
    /// From the start of the recording to the operator's first word.
    pub operator_answer_delay_ms: Option<u64>,
    pub operator_talk_ms: u64,
    pub customer_talk_ms: u64,
    /// Operator talk time divided by customer talk time (`None` when the customer is silent).
    pub talk_listen_ratio: Option<f64>,
    /// The longest stretch in which nobody speaks, between the first and the last turn.
    pub longest_silence_ms: u64,
    /// Turns that start before the other speaker's previous turn ended.
    pub interruptions: u32,
    /// Words per minute of operator speech.
    pub operator_words_per_minute: Option<f64>,
}

pub fn compute_metrics(turns: &[Turn]) -> CallMetrics {
    let mut metrics = CallMetrics {
        operator_answer_delay_ms: turns
            .iter()
            .find(|t| t.role == SpeakerRole::Operator)
            .map(|t| t.start_ms),
        ..Default::default()
    };
    let mut operator_words = 0u64;
    let mut spoken_until: Option<u64> = None;
    for (index, turn) in turns.iter().enumerate() {
        let length = turn.end_ms.saturating_sub(turn.start_ms);
        match turn.role {
            SpeakerRole::Operator => {
                metrics.operator_talk_ms += length;
                operator_words += turn.text.split_whitespace().count() as u64;
            }
            SpeakerRole::Customer => metrics.customer_talk_ms += length,
        }
        if let Some(until) = spoken_until {
            metrics.longest_silence_ms = metrics
                .longest_silence_ms
                .max(turn.start_ms.saturating_sub(until));
        }
        if index > 0 {
            let previous = &turns[index - 1];
            if previous.speaker != turn.speaker && turn.start_ms < previous.end_ms {
                metrics.interruptions += 1;
            }
        }
        spoken_until = Some(spoken_until.map_or(turn.end_ms, |u| u.max(turn.end_ms)));
    }
    if metrics.customer_talk_ms > 0 {
        metrics.talk_listen_ratio =
            Some(metrics.operator_talk_ms as f64 / metrics.customer_talk_ms as f64);
    }
    if metrics.operator_talk_ms > 0 {
        metrics.operator_words_per_minute =
            Some(operator_words as f64 * 60_000.0 / metrics.operator_talk_ms as f64);
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: &str, role: SpeakerRole, start: u64, end: u64, text: &str) -> Turn {
        Turn {
            speaker: speaker.into(),
            role,
            start_ms: start,
            end_ms: end,
            text: text.into(),
        }
    }

    #[test]
    fn timing_talk_and_interruptions() {
        let turns = vec![
            turn("1", SpeakerRole::Customer, 0, 1_000, "allo"),
            turn(
                "0",
                SpeakerRole::Operator,
                1_500,
                7_500,
                "assalomu alaykum bu dialix kompaniyasi",
            ),
            turn("1", SpeakerRole::Customer, 7_000, 9_000, "ha eshitaman"),
            turn("0", SpeakerRole::Operator, 13_000, 16_000, "rahmat"),
        ];
        let m = compute_metrics(&turns);
        assert_eq!(m.operator_answer_delay_ms, Some(1_500));
        assert_eq!(m.operator_talk_ms, 9_000);
        assert_eq!(m.customer_talk_ms, 3_000);
        assert_eq!(m.talk_listen_ratio, Some(3.0));
        assert_eq!(m.longest_silence_ms, 4_000);
        assert_eq!(m.interruptions, 1);
        // 6 words in 9 s of operator speech.
        assert_eq!(m.operator_words_per_minute, Some(40.0));
    }

    #[test]
    fn an_empty_transcript_has_no_ratios() {
        let m = compute_metrics(&[]);
        assert_eq!(m, CallMetrics::default());
    }
}
