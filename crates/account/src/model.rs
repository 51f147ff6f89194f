use dialix_kernel::{AccountId, Actor, CompanyGrant, CompanyId, Role};
use time::OffsetDateTime;

/// A stored account. `password_hash` is an argon2id PHC string and never leaves the service
/// layer: API responses are built from the other fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// Lower-cased, so lookups and uniqueness are case-insensitive.
    pub email: String,
    /// Lower-cased, like `email`.
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    pub is_active: bool,
    pub is_blocked: bool,
    pub last_activity: Option<OffsetDateTime>,
    pub preferred_language: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
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
