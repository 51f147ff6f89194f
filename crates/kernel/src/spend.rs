//! What money is spent on: the closed set a ledger charge records and spend is reported by.

/// What one ledger charge paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChargedFor {
    SpeechToText,
    GeneralAnalysis,
    Checklist,
    /// One answered chat question.
    Chat,
}

impl ChargedFor {
    pub const ALL: [ChargedFor; 4] = [
        ChargedFor::SpeechToText,
        ChargedFor::GeneralAnalysis,
        ChargedFor::Checklist,
        ChargedFor::Chat,
    ];

    /// The stored name (`transaction.charge_item`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ChargedFor::SpeechToText => "speech_to_text",
            ChargedFor::GeneralAnalysis => "general_analysis",
            ChargedFor::Checklist => "checklist",
            ChargedFor::Chat => "chat",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::ChargedFor;

    #[test]
    fn names_round_trip() {
        for item in ChargedFor::ALL {
            assert_eq!(ChargedFor::parse(item.as_str()), Some(item));
        }
    }
}
