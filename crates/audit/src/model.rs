use dialix_kernel::{AccountId, Actor, CompanyId, RequestMeta, ResourceType};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::details::sanitize;

/// Entries of actors outside any company (platform admins, anonymous logins) form this chain.
pub const PLATFORM_CHAIN: Uuid = Uuid::nil();

/// What happened. Stored as the upper-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    View,
    Login,
    LoginFailed,
    Logout,
    TokenRefresh,
    TokenReuse,
    Block,
    Unblock,
    Transfer,
    Topup,
    PasswordReset,
    Purge,
}

impl AuditAction {
    pub const ALL: [AuditAction; 15] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::View,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::TokenRefresh,
        AuditAction::TokenReuse,
        AuditAction::Block,
        AuditAction::Unblock,
        AuditAction::Transfer,
        AuditAction::Topup,
        AuditAction::PasswordReset,
        AuditAction::Purge,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "CREATE",
            AuditAction::Update => "UPDATE",
            AuditAction::Delete => "DELETE",
            AuditAction::View => "VIEW",
            AuditAction::Login => "LOGIN",
            AuditAction::LoginFailed => "LOGIN_FAILED",
            AuditAction::Logout => "LOGOUT",
            AuditAction::TokenRefresh => "TOKEN_REFRESH",
            AuditAction::TokenReuse => "TOKEN_REUSE",
            AuditAction::Block => "BLOCK",
            AuditAction::Unblock => "UNBLOCK",
            AuditAction::Transfer => "TRANSFER",
            AuditAction::Topup => "TOPUP",
            AuditAction::PasswordReset => "PASSWORD_RESET",
            AuditAction::Purge => "PURGE",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// A change about to be recorded. The log adds id, time, sequence and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub user_id: Option<AccountId>,
    /// The actor's company at the time of the event; also selects the hash chain.
    pub company_id: Option<CompanyId>,
    pub action: AuditAction,
    pub resource_type: ResourceType,
    pub resource_id: Option<String>,
    pub details: Value,
    pub meta: RequestMeta,
}

impl AuditEvent {
    /// An event performed by `actor`.
    pub fn by(
        actor: &Actor,
        action: AuditAction,
        resource_type: ResourceType,
        resource_id: impl ToString,
    ) -> Self {
        Self {
            user_id: Some(actor.account_id),
            company_id: actor.company_id,
            action,
            resource_type,
            resource_id: Some(resource_id.to_string()),
            details: Value::Object(Default::default()),
            meta: RequestMeta::default(),
        }
    }

    /// An event with no authenticated actor (a failed login, a system task).
    pub fn system(action: AuditAction, resource_type: ResourceType) -> Self {
        Self {
            user_id: None,
            company_id: None,
            action,
            resource_type,
            resource_id: None,
            details: Value::Object(Default::default()),
            meta: RequestMeta::default(),
        }
    }

    /// Sets the details; secrets in them are redacted (see `sanitize`).
    pub fn details(mut self, details: Value) -> Self {
        self.details = sanitize(details);
        self
    }

    pub fn meta(mut self, meta: &RequestMeta) -> Self {
        self.meta = meta.clone();
        self
    }

    pub fn chain_id(&self) -> Uuid {
        self.company_id.map_or(PLATFORM_CHAIN, |c| c.as_uuid())
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub chain_id: Uuid,
    /// Position in its chain, from 1, without gaps.
    pub seq: i64,
    pub user_id: Option<AccountId>,
    pub company_id: Option<CompanyId>,
    pub action: AuditAction,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub details: Value,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub prev_hash: String,
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(AuditAction::parse("create"), None);
    }
}
