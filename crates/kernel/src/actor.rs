use serde::{Deserialize, Serialize};

use crate::{AccountId, CompanyId};

/// A platform-wide role. Company administrators are `user`s with extra, per-company permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Platform administrator: manages every company and account.
    Admin,
    /// A member of a company.
    User,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// Who is performing a use case: resolved from the access token and re-checked against the
/// database on every request, so a blocked account cannot act with a still-valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    pub role: Role,
    pub company_id: Option<CompanyId>,
}

impl Actor {
    pub fn is_platform_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_text_round_trips() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
