//! What the company's CRM knows about a call's client, stored on the record. The lookup runs
//! when the call is processed and again on request; a failed lookup is an outcome like the
//! others, never a failed call.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmOutcome {
    /// A contact has this number.
    Found,
    /// The CRM answered; no contact has this number.
    NotFound,
    /// The CRM could not be asked (unreachable, rate limited, credentials refused); see
    /// `error`. A refresh asks again.
    Failed,
}

/// One deal of the client's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmDeal {
    pub id: String,
    pub title: String,
    /// The CRM's stage code, e.g. `C1:NEW`.
    pub stage_id: String,
    /// The stage's name in the CRM, when it names it.
    pub stage: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// The stored result of one lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmLookup {
    pub outcome: CrmOutcome,
    pub contact_id: Option<String>,
    pub customer_name: Option<String>,
    pub deals: Vec<CrmDeal>,
    /// Why it failed (the CRM's answer), for `failed`.
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub looked_up_at: OffsetDateTime,
}

impl CrmLookup {
    /// A lookup that could not be made.
    pub fn failed(error: impl Into<String>, at: OffsetDateTime) -> Self {
        CrmLookup {
            outcome: CrmOutcome::Failed,
            contact_id: None,
            customer_name: None,
            deals: Vec::new(),
            error: Some(error.into()),
            looked_up_at: at,
        }
    }
}
