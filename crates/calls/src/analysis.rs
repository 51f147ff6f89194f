//! The general analysis: what the language model is asked, the JSON schema its reply must
//! follow, and the check of that reply (a reply that does not fit is never stored).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How a conversation (or one side of it) felt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentValue {
    Positive,
    Neutral,
    Negative,
}

impl SentimentValue {
    pub const ALL: [SentimentValue; 3] = [
        SentimentValue::Positive,
        SentimentValue::Neutral,
        SentimentValue::Negative,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SentimentValue::Positive => "positive",
            SentimentValue::Neutral => "neutral",
            SentimentValue::Negative => "negative",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A sentiment with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentiment {
    pub value: SentimentValue,
    pub reason: String,
}

/// The general analysis of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralAnalysis {
    pub sentiment_conversation: Sentiment,
    pub sentiment_client: Sentiment,
    pub sentiment_operator: Sentiment,
    pub summary: String,
    /// One of the company's configured purposes, or `other`.
    pub call_purpose: String,
    pub is_conversation_over: bool,
    pub is_customer_satisfied: bool,
    pub key_words: Vec<String>,
}

/// The JSON schema the model must answer in (OpenAI structured outputs, strict mode).
pub fn general_schema(purposes: &[String]) -> Value {
    let sentiment = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["value", "reason"],
        "properties": {
            "value": {"type": "string", "enum": SentimentValue::ALL.map(SentimentValue::as_str)},
            "reason": {"type": "string"}
        }
    });
    let mut purpose_values: Vec<String> = purposes.to_vec();
    purpose_values.push("other".into());
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": [
            "sentiment_conversation", "sentiment_client", "sentiment_operator", "summary",
            "call_purpose", "is_conversation_over", "is_customer_satisfied", "key_words"
        ],
        "properties": {
            "sentiment_conversation": sentiment,
            "sentiment_client": sentiment,
            "sentiment_operator": sentiment,
            "summary": {"type": "string"},
            "call_purpose": {"type": "string", "enum": purpose_values},
            "is_conversation_over": {"type": "boolean"},
            "is_customer_satisfied": {"type": "boolean"},
            "key_words": {"type": "array", "items": {"type": "string"}}
        }
    })
}

/// The system and user messages for the general analysis, in the company's language.
pub fn general_prompt(dialogue: &str, language: &str, purposes: &[String]) -> (String, String) {
    let language_name = match language {
        "ru" => "Russian",
        "en" => "English",
        _ => "Uzbek",
    };
    let purposes = if purposes.is_empty() {
        "other".to_owned()
    } else {
        format!("{}, other", purposes.join(", "))
    };
    let system = format!(
        "You analyse call-center conversations between an operator and a customer. Answer only \
         with JSON that follows the given schema. Write summary, reasons and key words in \
         {language_name}. Sentiment is positive, neutral or negative. call_purpose is one of: \
         {purposes}."
    );
    let user = format!("Transcript (Operator and Customer turns, with start times):\n{dialogue}");
    (system, user)
}

/// Parses and checks a model reply; the error says what was wrong, for the job's log.
pub fn parse_general(reply: &str, purposes: &[String]) -> Result<GeneralAnalysis, String> {
    // Sentiments outside the closed set fail here already.
    let analysis: GeneralAnalysis =
        serde_json::from_str(reply.trim()).map_err(|e| format!("not the expected JSON: {e}"))?;
    if analysis.call_purpose != "other" && !purposes.contains(&analysis.call_purpose) {
        return Err(format!(
            "call_purpose {:?} is not configured",
            analysis.call_purpose
        ));
    }
    Ok(analysis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(purpose: &str, sentiment: &str) -> String {
        json!({
            "sentiment_conversation": {"value": sentiment, "reason": "r"},
            "sentiment_client": {"value": "neutral", "reason": "r"},
            "sentiment_operator": {"value": "positive", "reason": "r"},
            "summary": "s",
            "call_purpose": purpose,
            "is_conversation_over": true,
            "is_customer_satisfied": false,
            "key_words": ["narx"]
        })
        .to_string()
    }

    #[test]
    fn a_reply_that_fits_is_accepted() {
        let purposes = vec!["sales".to_owned()];
        let analysis = parse_general(&reply("sales", "positive"), &purposes).unwrap();
        assert_eq!(analysis.call_purpose, "sales");
        assert!(parse_general(&reply("other", "negative"), &purposes).is_ok());
    }

    #[test]
    fn a_reply_that_does_not_fit_is_refused() {
        let purposes = vec!["sales".to_owned()];
        assert!(parse_general(&reply("weather", "positive"), &purposes).is_err());
        assert!(parse_general(&reply("sales", "ecstatic"), &purposes).is_err());
        assert!(parse_general("{\"summary\": 1}", &purposes).is_err());
        assert!(parse_general("not json", &purposes).is_err());
    }

    #[test]
    fn the_schema_lists_the_configured_purposes_and_other() {
        let schema = general_schema(&["sales".to_owned()]);
        assert_eq!(
            schema["properties"]["call_purpose"]["enum"],
            json!(["sales", "other"])
        );
        let (system, _) = general_prompt("dialogue", "ru", &[]);
        assert!(system.contains("Russian"));
    }
}
