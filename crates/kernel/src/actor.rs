use std::collections::BTreeSet;

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

/// What a company administrator may do within the companies they administer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    CanManageUsers,
    CanViewRecords,
    CanViewActivityLogs,
    CanManageSettings,
    CanTopup,
    /// Connect the company's PBX and CRM, import calls from the PBX, sync operators.
    CanManageIntegrations,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::CanManageUsers,
        Permission::CanViewRecords,
        Permission::CanViewActivityLogs,
        Permission::CanManageSettings,
        Permission::CanTopup,
        Permission::CanManageIntegrations,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::CanManageUsers => "can_manage_users",
            Permission::CanViewRecords => "can_view_records",
            Permission::CanViewActivityLogs => "can_view_activity_logs",
            Permission::CanManageSettings => "can_manage_settings",
            Permission::CanTopup => "can_topup",
            Permission::CanManageIntegrations => "can_manage_integrations",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

/// One company an account administers, with what it may do there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyGrant {
    pub company_id: CompanyId,
    pub permissions: BTreeSet<Permission>,
}

/// Who is performing a use case: resolved from the access token and re-checked against the
/// database on every request, so a blocked account cannot act with a still-valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    /// Companies this account administers (empty for most users).
    pub grants: Vec<CompanyGrant>,
}

impl Actor {
    pub fn is_platform_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the actor may do what `permission` covers in `company`: platform admins
    /// everywhere, company administrators where they hold that permission.
    pub fn may(&self, permission: Permission, company: CompanyId) -> bool {
        self.may_within(permission, &[company])
    }

    /// Like `may`, for a company given with its ancestors (`lineage`: the company first, then
    /// its parent, up to the root): a grant on any of them covers the company, since
    /// administrators act within their company and its descendants.
    pub fn may_within(&self, permission: Permission, lineage: &[CompanyId]) -> bool {
        self.is_platform_admin()
            || self
                .grants
                .iter()
                .any(|g| lineage.contains(&g.company_id) && g.permissions.contains(&permission))
    }

    /// Whether the actor's own rights cover an administrator grant of `permissions` over the
    /// company whose `lineage` is given: it administers that company (or an ancestor) with
    /// every one of those permissions. Nobody may manage an account whose grants reach
    /// beyond their own.
    pub fn covers(&self, permissions: &BTreeSet<Permission>, lineage: &[CompanyId]) -> bool {
        self.is_platform_admin()
            || (self.administers_within(lineage)
                && permissions.iter().all(|p| self.may_within(*p, lineage)))
    }

    /// Whether the actor administers any company of `lineage`, with any permission.
    pub fn administers_within(&self, lineage: &[CompanyId]) -> bool {
        self.grants.iter().any(|g| lineage.contains(&g.company_id))
    }
}

#[cfg(any(test, feature = "mock"))]
impl Actor {
    /// A fresh member of `company` administering it with `permissions`, for unit tests.
    pub fn administrator_of(company: CompanyId, permissions: &[Permission]) -> Self {
        Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: Some(company),
            grants: vec![CompanyGrant {
                company_id: company,
                permissions: permissions.iter().copied().collect(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_permission_text_round_trips() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.as_str()), Some(permission));
        }
        assert_eq!(Permission::parse("can_fly"), None);
    }

    #[test]
    fn company_administrators_act_only_where_granted() {
        let company = CompanyId::generate();
        let actor = Actor::administrator_of(company, &[Permission::CanViewActivityLogs]);
        assert!(actor.may(Permission::CanViewActivityLogs, company));
        assert!(!actor.may(Permission::CanTopup, company));
        assert!(!actor.may(Permission::CanViewActivityLogs, CompanyId::generate()));
        let admin = Actor {
            role: Role::Admin,
            grants: vec![],
            ..actor
        };
        assert!(admin.may(Permission::CanTopup, CompanyId::generate()));
    }
}
