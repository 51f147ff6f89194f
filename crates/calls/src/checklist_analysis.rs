//! Checklist analysis: the schema the model answers in, the check of its reply, and the
//! score.

use dialix_kernel::ChecklistId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Checklist;

/// The model's verdict on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemVerdict {
    pub item_id: String,
    /// `None`: the item did not apply to this call.
    pub passed: Option<bool>,
    /// A quote from the transcript.
    pub evidence: String,
    pub at_ms: Option<u64>,
    /// Copied from the checklist when scored (the model is not asked).
    #[serde(default)]
    pub critical: bool,
}

/// A call scored against one checklist version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistResult {
    pub checklist_id: ChecklistId,
    pub version: u32,
    pub items: Vec<ItemVerdict>,
    /// 0–100: the weight of passed items over the weight of applicable ones.
    pub score: f64,
    /// The version's pass mark (0 for results scored before pass marks existed).
    #[serde(default)]
    pub pass_mark: u32,
    /// No critical item failed and the score reached the pass mark.
    pub compliant: bool,
}

pub fn checklist_schema(checklist: &Checklist) -> Value {
    let ids: Vec<&str> = checklist.items().map(|i| i.id.as_str()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["item_id", "passed", "evidence", "at_ms"],
                    "properties": {
                        "item_id": {"type": "string", "enum": ids},
                        "passed": {"type": ["boolean", "null"]},
                        "evidence": {"type": "string"},
                        "at_ms": {"type": ["integer", "null"]}
                    }
                }
            }
        }
    })
}

pub fn checklist_prompt(checklist: &Checklist, dialogue: &str) -> (String, String) {
    let items: Vec<String> = checklist
        .segments
        .iter()
        .flat_map(|segment| {
            segment
                .items
                .iter()
                .map(move |item| format!("{} [{}] {}", item.id, segment.title, item.text))
        })
        .collect();
    let system = "You check call-center conversations against a checklist. For every item give \
        passed true or false, or null when the item does not apply to this call; quote the \
        transcript as evidence and give the time (at_ms) of the quote. Answer only with JSON \
        following the schema."
        .to_owned();
    let user = format!(
        "Checklist:\n{}\n\nTranscript (Operator and Customer turns, with start times):\n{dialogue}",
        items.join("\n")
    );
    (system, user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    items: Vec<ItemVerdict>,
}

/// Checks the reply covers every item exactly once, then scores it.
pub fn parse_checklist(reply: &str, checklist: &Checklist) -> Result<ChecklistResult, String> {
    let reply: Reply =
        serde_json::from_str(reply.trim()).map_err(|e| format!("not the expected JSON: {e}"))?;
    let mut verdicts = Vec::new();
    for item in checklist.items() {
        let mut matching = reply.items.iter().filter(|v| v.item_id == item.id);
        let verdict = matching
            .next()
            .ok_or_else(|| format!("item {} has no verdict", item.id))?;
        if matching.next().is_some() {
            return Err(format!("item {} has two verdicts", item.id));
        }
        verdicts.push(verdict.clone());
    }
    if reply.items.len() != verdicts.len() {
        return Err("the reply has verdicts for items that do not exist".into());
    }
    Ok(score(checklist, verdicts))
}

fn score(checklist: &Checklist, items: Vec<ItemVerdict>) -> ChecklistResult {
    let weighted = checklist.items().any(|i| i.weight.is_some());
    let mut applicable = 0.0;
    let mut passed = 0.0;
    let mut compliant = true;
    let mut items = items;
    for (item, verdict) in checklist.items().zip(items.iter_mut()) {
        verdict.critical = item.critical;
        let weight = if weighted {
            f64::from(item.weight.unwrap_or(0))
        } else {
            1.0
        };
        match verdict.passed {
            Some(true) => {
                applicable += weight;
                passed += weight;
            }
            Some(false) => {
                applicable += weight;
                if item.critical {
                    compliant = false;
                }
            }
            None => {}
        }
    }
    let score = if applicable > 0.0 {
        (passed / applicable * 10_000.0).round() / 100.0
    } else {
        100.0
    };
    ChecklistResult {
        checklist_id: checklist.id,
        version: checklist.version,
        items,
        score,
        pass_mark: checklist.pass_mark,
        compliant: compliant && score >= f64::from(checklist.pass_mark),
    }
}

#[cfg(test)]
mod tests {
    use dialix_kernel::CompanyId;
    use time::macros::datetime;

    use super::*;
    use crate::{ChecklistItem, ChecklistSegment};

    fn checklist(weights: [Option<u32>; 3]) -> Checklist {
        let item = |id: &str, weight, critical| ChecklistItem {
            id: id.into(),
            text: format!("item {id}"),
            weight,
            critical,
        };
        Checklist {
            id: ChecklistId::generate(),
            company_id: CompanyId::generate(),
            name: "QA".into(),
            version: 3,
            pass_mark: 0,
            segments: vec![ChecklistSegment {
                title: "All".into(),
                items: vec![
                    item("1.1", weights[0], true),
                    item("1.2", weights[1], false),
                    item("1.3", weights[2], false),
                ],
            }],
            created_at: datetime!(2026-11-26 0:00 UTC),
            updated_at: datetime!(2026-11-26 0:00 UTC),
            row_version: Default::default(),
        }
    }

    fn reply(verdicts: [Option<bool>; 3]) -> String {
        let items: Vec<Value> = ["1.1", "1.2", "1.3"]
            .iter()
            .zip(verdicts)
            .map(|(id, passed)| json!({"item_id": id, "passed": passed, "evidence": "q", "at_ms": 100}))
            .collect();
        json!({"items": items}).to_string()
    }

    #[test]
    fn weights_score_the_applicable_items() {
        let c = checklist([Some(50), Some(30), Some(20)]);
        let result = parse_checklist(&reply([Some(true), Some(false), None]), &c).unwrap();
        // 50 of the 80 applicable points.
        assert_eq!(result.score, 62.5);
        assert!(result.compliant);
        assert_eq!(result.version, 3);
    }

    #[test]
    fn a_failed_critical_item_is_non_compliant_whatever_the_score() {
        let c = checklist([None, None, None]);
        let result = parse_checklist(&reply([Some(false), Some(true), Some(true)]), &c).unwrap();
        assert_eq!(result.score, 66.67);
        assert!(!result.compliant);
    }

    #[test]
    fn a_score_below_the_pass_mark_is_non_compliant_and_critical_flags_are_copied() {
        let mut c = checklist([Some(50), Some(30), Some(20)]);
        c.pass_mark = 70;
        let result = parse_checklist(&reply([Some(true), Some(false), None]), &c).unwrap();
        assert_eq!(result.score, 62.5);
        assert_eq!(result.pass_mark, 70);
        assert!(!result.compliant);
        let critical: Vec<bool> = result.items.iter().map(|i| i.critical).collect();
        assert_eq!(critical, [true, false, false]);
        c.pass_mark = 62;
        let result = parse_checklist(&reply([Some(true), Some(false), None]), &c).unwrap();
        assert!(result.compliant);
    }

    #[test]
    fn replies_must_cover_every_item_once() {
        let c = checklist([None, None, None]);
        assert!(parse_checklist(r#"{"items": []}"#, &c).is_err());
        let twice = json!({"items": [
            {"item_id": "1.1", "passed": true, "evidence": "", "at_ms": null},
            {"item_id": "1.1", "passed": true, "evidence": "", "at_ms": null},
            {"item_id": "1.2", "passed": true, "evidence": "", "at_ms": null},
            {"item_id": "1.3", "passed": true, "evidence": "", "at_ms": null}
        ]});
        assert!(parse_checklist(&twice.to_string(), &c).is_err());
        let schema = checklist_schema(&c);
        assert_eq!(
            schema["properties"]["items"]["items"]["properties"]["item_id"]["enum"],
            json!(["1.1", "1.2", "1.3"])
        );
    }
}
