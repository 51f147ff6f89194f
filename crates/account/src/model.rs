use dialix_kernel::{AccountId, Actor, CompanyGrant, CompanyId, Role, RowVersion};
use time::OffsetDateTime;

/// A stored account. Its password hash is not part of it: only logins and password changes
/// read the hash, through the repository, so it never reaches a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// Lower-cased, so lookups and uniqueness are case-insensitive.
    pub email: String,
    /// Lower-cased, like `email`.
    pub username: String,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    pub is_active: bool,
    pub is_blocked: bool,
    pub last_activity: Option<OffsetDateTime>,
    pub preferred_language: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The company whose block blocked this account (`None` for a manual block).
    pub blocked_by_company: Option<CompanyId>,
    /// Set by a (soft) delete; the account is then also inactive.
    pub deleted_at: Option<OffsetDateTime>,
    pub row_version: RowVersion,
}

impl Account {
    /// Why this account may not log in or act, if it may not.
    pub fn access_refusal(&self) -> Option<&'static str> {
        if !self.is_active {
            Some("this account is deactivated")
        } else if self.is_blocked {
            Some("this account is blocked")
        } else {
            None
        }
    }

    pub fn actor(&self, grants: Vec<CompanyGrant>) -> Actor {
        Actor {
            account_id: self.id,
            role: self.role,
            company_id: self.company_id,
            grants,
        }
    }
}

/// What an administrator supplies to create an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub email: String,
    pub username: String,
    pub password: String,
    pub role: Role,
    pub company_id: Option<CompanyId>,
}

/// A partial update by an administrator; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChanges {
    pub email: Option<String>,
    pub username: Option<String>,
    pub role: Option<Role>,
    /// `Some(None)` removes the account from its company.
    pub company_id: Option<Option<CompanyId>>,
    pub is_active: Option<bool>,
}

/// Columns an account listing can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountSortField {
    #[default]
    CreatedAt,
    Email,
    Username,
    LastActivity,
}

/// Which accounts a listing returns, and in what order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Case-insensitive substring of username, email or company name.
    pub search: Option<String>,
    pub role: Option<Role>,
    pub company_id: Option<CompanyId>,
    pub is_active: Option<bool>,
    pub is_blocked: Option<bool>,
    /// Restricts to members of these companies (the actor's scope); `None` means all.
    pub within: Option<Vec<CompanyId>>,
    pub sort: AccountSortField,
    pub descending: bool,
}

/// An account with its company's name, as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub account: Account,
    pub company_name: Option<String>,
}
