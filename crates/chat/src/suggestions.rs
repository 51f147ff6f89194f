//! Questions worth asking about a call, built from its own analysis without a model call.
//!
//! In this order, as far as the analysis says so: why the client was unhappy (negative client
//! sentiment), what the client missed (not satisfied, without negative sentiment), one
//! question per failed checklist item (at most two), what the client wanted for the call's
//! purpose (unless `other`), what was left unresolved (conversation not over), what was said
//! about the first key word; then general questions until there are seven. There are always
//! at least five: the general questions alone are five.

use dialix_calls::{Checklist, ChecklistResult, GeneralAnalysis, SentimentValue};

use crate::Language;

/// The most questions suggested.
pub const MAX_SUGGESTIONS: usize = 7;
/// Failed checklist items asked about.
const MAX_CHECKLIST_QUESTIONS: usize = 2;

/// What the suggestions are built from.
#[derive(Debug, Clone, Copy, Default)]
pub struct SuggestionSource<'a> {
    pub general: Option<&'a GeneralAnalysis>,
    pub checklist: Option<(&'a ChecklistResult, &'a Checklist)>,
}

/// Five to seven questions in `language`.
pub fn suggested_questions(source: SuggestionSource<'_>, language: Language) -> Vec<String> {
    let phrases = Phrases::of(language);
    let mut questions: Vec<String> = Vec::new();
    if let Some(general) = source.general {
        if general.sentiment_client.value == SentimentValue::Negative {
            questions.push(phrases.why_unhappy.to_owned());
        } else if !general.is_customer_satisfied {
            questions.push(phrases.what_missing.to_owned());
        }
    }
    if let Some((result, checklist)) = source.checklist {
        let failed = result
            .items
            .iter()
            .filter(|verdict| verdict.passed == Some(false))
            .filter_map(|verdict| checklist.items().find(|item| item.id == verdict.item_id))
            .take(MAX_CHECKLIST_QUESTIONS);
        questions.extend(failed.map(|item| (phrases.checklist_item)(item.text.trim())));
    }
    if let Some(general) = source.general {
        if general.call_purpose != "other" {
            questions.push((phrases.purpose)(&general.call_purpose));
        }
        if !general.is_conversation_over {
            questions.push(phrases.unresolved.to_owned());
        }
        if let Some(word) = general.key_words.first() {
            questions.push((phrases.key_word)(word));
        }
    }
    for general in phrases.general {
        if questions.len() >= MAX_SUGGESTIONS {
            break;
        }
        questions.push((*general).to_owned());
    }
    questions.truncate(MAX_SUGGESTIONS);
    questions
}

/// The questions' wording in one language.
struct Phrases {
    why_unhappy: &'static str,
    what_missing: &'static str,
    checklist_item: fn(&str) -> String,
    purpose: fn(&str) -> String,
    unresolved: &'static str,
    key_word: fn(&str) -> String,
    general: &'static [&'static str],
}

impl Phrases {
    fn of(language: Language) -> Self {
        match language {
            Language::Uz => Self {
                why_unhappy: "Mijoz nega norozi bo'ldi?",
                what_missing: "Mijoz qoniqishi uchun nima yetishmadi?",
                checklist_item: |item| format!("Operator «{item}» talabini bajardimi?"),
                purpose: |purpose| format!("Mijoz «{purpose}» bo'yicha nimani xohladi?"),
                unresolved: "Suhbat oxirida qaysi masala hal bo'lmay qoldi?",
                key_word: |word| format!("«{word}» haqida nima deyildi?"),
                general: &[
                    "Qo'ng'iroqni qisqacha bayon qiling.",
                    "Mijoz nimani so'radi?",
                    "Operator nimani va'da qildi?",
                    "Keyingi qadamlar qanday kelishildi?",
                    "Mijozning muammosi hal bo'ldimi?",
                ],
            },
            Language::Ru => Self {
                why_unhappy: "Почему клиент остался недоволен?",
                what_missing: "Чего не хватило, чтобы клиент остался доволен?",
                checklist_item: |item| format!("Выполнил ли оператор пункт «{item}»?"),
                purpose: |purpose| format!("Что клиент хотел по теме «{purpose}»?"),
                unresolved: "Какой вопрос остался нерешённым в конце звонка?",
                key_word: |word| format!("Что говорилось о «{word}»?"),
                general: &[
                    "Кратко перескажите звонок.",
                    "О чём спрашивал клиент?",
                    "Что пообещал оператор?",
                    "О каких следующих шагах договорились?",
                    "Решена ли проблема клиента?",
                ],
            },
            Language::En => Self {
                why_unhappy: "Why was the client unhappy?",
                what_missing: "What was missing for the client to be satisfied?",
                checklist_item: |item| format!("Did the operator meet the item \"{item}\"?"),
                purpose: |purpose| format!("What did the client want regarding \"{purpose}\"?"),
                unresolved: "What was left unresolved at the end of the call?",
                key_word: |word| format!("What was said about \"{word}\"?"),
                general: &[
                    "Summarise the call briefly.",
                    "What did the client ask about?",
                    "What did the operator promise?",
                    "Which next steps were agreed?",
                    "Was the client's problem resolved?",
                ],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use dialix_calls::{ChecklistItem, ChecklistSegment, ItemVerdict, Sentiment};
    use dialix_kernel::{ChecklistId, CompanyId, RowVersion};
    use time::macros::datetime;

    use super::*;

    fn general(
        client: SentimentValue,
        purpose: &str,
        over: bool,
        satisfied: bool,
    ) -> GeneralAnalysis {
        let sentiment = |value| Sentiment {
            value,
            reason: String::new(),
        };
        GeneralAnalysis {
            sentiment_conversation: sentiment(SentimentValue::Neutral),
            sentiment_client: sentiment(client),
            sentiment_operator: sentiment(SentimentValue::Positive),
            summary: String::new(),
            call_purpose: purpose.into(),
            is_conversation_over: over,
            is_customer_satisfied: satisfied,
            key_words: vec!["tarif".into(), "narx".into()],
        }
    }

    fn checklist() -> (ChecklistResult, Checklist) {
        let id = ChecklistId::generate();
        let item = |id: &str, text: &str| ChecklistItem {
            id: id.into(),
            text: text.into(),
            weight: None,
            critical: false,
        };
        let verdict = |id: &str, passed| ItemVerdict {
            item_id: id.into(),
            passed,
            evidence: String::new(),
            at_ms: None,
            critical: false,
        };
        let at = datetime!(2026-11-29 12:00 UTC);
        (
            ChecklistResult {
                checklist_id: id,
                version: 1,
                items: vec![
                    verdict("1.1", Some(true)),
                    verdict("1.2", Some(false)),
                    verdict("1.3", None),
                    verdict("1.4", Some(false)),
                    verdict("1.5", Some(false)),
                ],
                score: 25.0,
                pass_mark: 0,
                compliant: false,
            },
            Checklist {
                id,
                company_id: CompanyId::generate(),
                name: "Quality".into(),
                version: 1,
                pass_mark: 0,
                segments: vec![ChecklistSegment {
                    title: "Call".into(),
                    items: vec![
                        item("1.1", "greet the client"),
                        item("1.2", "offer a solution"),
                        item("1.3", "transfer the call"),
                        item("1.4", "say goodbye"),
                        item("1.5", "thank the client"),
                    ],
                }],
                created_at: at,
                updated_at: at,
                row_version: RowVersion::default(),
            },
        )
    }

    #[test]
    fn an_unhappy_failed_call_gets_its_own_questions_first() {
        let general = general(SentimentValue::Negative, "complaint", false, false);
        let (result, checklist) = checklist();
        let source = SuggestionSource {
            general: Some(&general),
            checklist: Some((&result, &checklist)),
        };
        assert_eq!(
            suggested_questions(source, Language::En),
            [
                "Why was the client unhappy?",
                "Did the operator meet the item \"offer a solution\"?",
                "Did the operator meet the item \"say goodbye\"?",
                "What did the client want regarding \"complaint\"?",
                "What was left unresolved at the end of the call?",
                "What was said about \"tarif\"?",
                "Summarise the call briefly.",
            ]
        );
    }

    #[test]
    fn a_call_without_analysis_gets_the_five_general_questions() {
        let questions = suggested_questions(SuggestionSource::default(), Language::Ru);
        assert_eq!(
            questions,
            [
                "Кратко перескажите звонок.",
                "О чём спрашивал клиент?",
                "Что пообещал оператор?",
                "О каких следующих шагах договорились?",
                "Решена ли проблема клиента?",
            ]
        );
    }

    #[test]
    fn a_smooth_call_mixes_its_facts_with_general_questions() {
        let general = general(SentimentValue::Positive, "other", true, true);
        let source = SuggestionSource {
            general: Some(&general),
            checklist: None,
        };
        assert_eq!(
            suggested_questions(source, Language::Uz),
            [
                "«tarif» haqida nima deyildi?",
                "Qo'ng'iroqni qisqacha bayon qiling.",
                "Mijoz nimani so'radi?",
                "Operator nimani va'da qildi?",
                "Keyingi qadamlar qanday kelishildi?",
                "Mijozning muammosi hal bo'ldimi?",
            ]
        );
    }
}
