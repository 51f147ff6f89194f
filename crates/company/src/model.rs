use std::collections::BTreeSet;

use dialix_kernel::{AccountId, CompanyId, Permission, RowVersion};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// A tenant. `balance` is in minor units (1/100 of a so'm) so money is never a float.
#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub parent_company_id: Option<CompanyId>,
    /// 0 for a top-level company, the parent's level + 1 otherwise.
    pub hierarchy_level: i32,
    /// Free-form company configuration (a JSON object).
    pub settings: Value,
    pub balance: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub row_version: RowVersion,
}

impl Company {
    /// The key that makes names unique regardless of case and surrounding spaces.
    pub fn name_key(name: &str) -> String {
        name.trim().to_lowercase()
    }
}

/// What a platform admin supplies to create a company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCompany {
    pub name: String,
    pub description: Option<String>,
    pub parent_company_id: Option<CompanyId>,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub settings: Option<Value>,
}

/// Figures shown with a company.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompanyStats {
    pub users_active: u64,
    pub users_blocked: u64,
    pub users_inactive: u64,
    pub sub_companies: u64,
    /// Sum of all top-ups, minor units.
    pub total_topped_up: i64,
    /// Sum of all charges net of refunds, minor units.
    pub total_spent: i64,
    /// Calls whose processing is done.
    pub records_processed: u64,
    /// Their audio, in milliseconds.
    pub audio_ms_processed: i64,
}

/// Which companies a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyFilter {
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub parent_company_id: Option<CompanyId>,
    /// Restricts to these companies (the actor's visible scope); `None` means all.
    pub within: Option<Vec<CompanyId>>,
}

/// The kinds of ledger entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    Topup,
    Charge,
    TransferIn,
    TransferOut,
    Refund,
}

impl LedgerKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Topup => "topup",
            LedgerKind::Charge => "charge",
            LedgerKind::TransferIn => "transfer_in",
            LedgerKind::TransferOut => "transfer_out",
            LedgerKind::Refund => "refund",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            LedgerKind::Topup,
            LedgerKind::Charge,
            LedgerKind::TransferIn,
            LedgerKind::TransferOut,
            LedgerKind::Refund,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// One append-only ledger entry: the balance change and the balance right after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub company_id: CompanyId,
    /// Who caused it (the admin who topped up, the owner of a charged call).
    pub owner_id: Option<AccountId>,
    pub record_id: Option<Uuid>,
    pub kind: LedgerKind,
    /// Signed: positive adds to the balance.
    pub amount: i64,
    pub balance_after: i64,
    pub idempotency_key: Option<String>,
    pub created_at: OffsetDateTime,
}

/// A company administrator: an account with permissions over a company and its descendants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administrator {
    pub company_id: CompanyId,
    pub user_id: AccountId,
    pub permissions: BTreeSet<Permission>,
    pub created_at: OffsetDateTime,
    pub row_version: RowVersion,
}

/// Where a member's company stands at a membership change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipAction {
    Joined,
    Left,
}

impl MembershipAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            MembershipAction::Joined => "joined",
            MembershipAction::Left => "left",
        }
    }
}

/// A row of `user_company_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipChange {
    pub user_id: AccountId,
    pub company_id: CompanyId,
    pub action: MembershipAction,
    /// The company's balance at the moment of the change.
    pub balance_at_time: i64,
    pub created_at: OffsetDateTime,
}
