//! Account management by administrators (platform admins everywhere; company administrators
//! with `can_manage_users` within their companies), and self-service changes.
//!
//! Every change re-reads the account and decides on that copy; the write is conditional on
//! the copy's row version and the whole use case re-runs if someone changed the account in
//! between (`retry_on_stale`), so a change never undoes a concurrent block, reset or delete.

use dialix_audit::{AuditAction, AuditEvent, Changes};
use dialix_kernel::{
    AccountId, Actor, CompanyId, DomainError, DomainResult, FieldErrors, Page, PageRequest,
    Permission, RequestMeta, ResourceType, Role, administered_companies, covers_grants,
    retry_on_stale,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::{Account, AccountChanges, AccountFilter, AccountService, AccountSummary, validation};

/// Languages the product speaks.
pub const LANGUAGES: [&str; 3] = ["uz", "ru", "en"];

/// How `save` writes an account.
enum Write<'a> {
    Fields,
    /// Fields, and every session of the account ends (a block, a deletion).
    FieldsEndingSessions,
    /// A new password hash; every session ends.
    Password(&'a SecretString),
}

/// What an administrator is about to do with an account; the rules on administrators
/// depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Read,
    Change,
    /// Deleting again finds nothing to delete.
    Delete,
    /// Password, email or username: whoever controls these can log in as the account.
    Credentials,
}

impl AccountService {
    /// Accounts the actor manages, filtered and sorted.
    pub async fn list(
        &self,
        actor: &Actor,
        mut filter: AccountFilter,
        page: PageRequest,
    ) -> DomainResult<Page<AccountSummary>> {
        if !actor.is_platform_admin() {
            let scope = administered_companies(
                self.companies.as_ref(),
                actor,
                Some(Permission::CanManageUsers),
            )
            .await?;
            if scope.is_empty() {
                return Err(DomainError::Forbidden(
                    "listing accounts needs the can_manage_users permission".into(),
                ));
            }
            filter.within = Some(scope);
        }
        self.accounts.list(&filter, page).await
    }

    /// One account the actor manages; the read is audited (`VIEW`), since it shows another
    /// person's details.
    pub async fn get(
        &self,
        actor: &Actor,
        id: AccountId,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        let account = self.managed(actor, id, Purpose::Read).await?;
        if id != actor.account_id {
            let now = self.clock.now();
            let event =
                AuditEvent::by(actor, AuditAction::View, ResourceType::Account, id).meta(meta);
            self.audited.record_alone(event, now).await?;
        }
        Ok(account)
    }

    /// Changes email, username, role, company or active flag. Nobody changes their own role or
    /// company; only platform admins grant the admin role; company administrators move users
    /// only within their companies.
    pub async fn update(
        &self,
        actor: &Actor,
        id: AccountId,
        changes: AccountChanges,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        retry_on_stale(|| self.try_update(actor, id, changes.clone(), meta)).await
    }

    async fn try_update(
        &self,
        actor: &Actor,
        id: AccountId,
        changes: AccountChanges,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        let purpose = if changes.email.is_some() || changes.username.is_some() {
            Purpose::Credentials
        } else {
            Purpose::Change
        };
        let before = self.managed(actor, id, purpose).await?;
        let own = id == actor.account_id;
        let mut after = before.clone();
        let mut errors = FieldErrors::new();
        if let Some(email) = changes.email {
            after.email = validation::normalise_login(&email);
            validation::check_email(&mut errors, &after.email);
        }
        if let Some(username) = changes.username {
            after.username = validation::normalise_login(&username);
            validation::check_username(&mut errors, &after.username);
        }
        if let Some(role) = changes.role {
            if own && role != before.role {
                return Err(DomainError::Forbidden(
                    "you cannot change your own role".into(),
                ));
            }
            if role == Role::Admin && !actor.is_platform_admin() {
                return Err(DomainError::Forbidden(
                    "only a platform administrator may grant the admin role".into(),
                ));
            }
            after.role = role;
        }
        if let Some(company_id) = changes.company_id {
            if own && company_id != before.company_id {
                return Err(DomainError::Forbidden("you cannot move yourself".into()));
            }
            if company_id != before.company_id {
                self.check_company_target(actor, company_id, &mut errors)
                    .await?;
            }
            after.company_id = company_id;
        }
        if let Some(is_active) = changes.is_active {
            if own && !is_active {
                return Err(DomainError::Forbidden(
                    "you cannot deactivate yourself".into(),
                ));
            }
            after.is_active = is_active;
        }
        errors.into_result()?;
        self.ensure_unique(&before, &after).await?;

        let diff = Changes::new()
            .field("email", &before.email, &after.email)
            .field("username", &before.username, &after.username)
            .field("role", &before.role.as_str(), &after.role.as_str())
            .field("company_id", &before.company_id, &after.company_id)
            .field("is_active", &before.is_active, &after.is_active);
        if diff.is_empty() {
            return Ok(before);
        }
        self.save(
            actor,
            after,
            Write::Fields,
            AuditAction::Update,
            diff.into_value(),
            meta,
        )
        .await
    }

    /// Soft delete: the account is deactivated and marked deleted, its sessions end, its
    /// data stays. Deletion is final: no endpoint undoes it, for anyone.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: AccountId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        retry_on_stale(|| async {
            if id == actor.account_id {
                return Err(DomainError::Forbidden("you cannot delete yourself".into()));
            }
            let before = self.managed(actor, id, Purpose::Delete).await?;
            let now = self.clock.now();
            let after = Account {
                is_active: false,
                deleted_at: Some(now),
                ..before
            };
            self.save(
                actor,
                after,
                Write::FieldsEndingSessions,
                AuditAction::Delete,
                json!({"soft": true}),
                meta,
            )
            .await
            .map(drop)
        })
        .await
    }

    /// Sets a new password and ends every session of the account.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        id: AccountId,
        new_password: &str,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        self.managed(actor, id, Purpose::Credentials).await?;
        let mut errors = FieldErrors::new();
        validation::check_password_as(
            &mut errors,
            "new_password",
            new_password,
            self.password_policy.min_length,
        );
        errors.into_result()?;
        // Hashed once: the retries below only re-read and re-check the account.
        let password_hash = self.hasher.hash(new_password).await?;
        retry_on_stale(|| async {
            let account = self.managed(actor, id, Purpose::Credentials).await?;
            let details = Changes::new().secret("password").into_value();
            self.save(
                actor,
                account,
                Write::Password(&password_hash),
                AuditAction::PasswordReset,
                details,
                meta,
            )
            .await
            .map(drop)
        })
        .await
    }

    /// Blocks (or unblocks) the account; a block ends its sessions at once. An account of a
    /// blocked company (or of a company under a blocked one) stays blocked until that company
    /// is unblocked.
    pub async fn set_blocked(
        &self,
        actor: &Actor,
        id: AccountId,
        blocked: bool,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        retry_on_stale(|| self.try_set_blocked(actor, id, blocked, meta)).await
    }

    async fn try_set_blocked(
        &self,
        actor: &Actor,
        id: AccountId,
        blocked: bool,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        if id == actor.account_id {
            return Err(DomainError::Forbidden(
                "you cannot block or unblock yourself".into(),
            ));
        }
        let before = self.managed(actor, id, Purpose::Change).await?;
        if before.is_blocked == blocked {
            return Err(DomainError::conflict(
                "is_blocked",
                if blocked {
                    "the account is already blocked"
                } else {
                    "the account is not blocked"
                },
            ));
        }
        if !blocked
            && let Some(company) = before.company_id
            && let Some(blocked_company) = self.companies.blocked_in_lineage(company).await?
        {
            return Err(DomainError::conflict(
                "is_blocked",
                format!(
                    "the account's company {blocked_company} is blocked; its accounts stay \
                     blocked until the company is unblocked"
                ),
            ));
        }
        let after = Account {
            is_blocked: blocked,
            blocked_by_company: None,
            ..before.clone()
        };
        let (action, details) = if blocked {
            (AuditAction::Block, json!({"manual": true}))
        } else {
            (
                AuditAction::Unblock,
                json!({"was_blocked_by_company": before.blocked_by_company}),
            )
        };
        let write = if blocked {
            Write::FieldsEndingSessions
        } else {
            Write::Fields
        };
        self.save(actor, after, write, action, details, meta).await
    }

    /// Users change their own username and language.
    pub async fn update_me(
        &self,
        actor: &Actor,
        username: Option<String>,
        preferred_language: Option<String>,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        retry_on_stale(|| {
            self.try_update_me(actor, username.clone(), preferred_language.clone(), meta)
        })
        .await
    }

    async fn try_update_me(
        &self,
        actor: &Actor,
        username: Option<String>,
        preferred_language: Option<String>,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        let before = self.me(actor).await?;
        let mut after = before.clone();
        let mut errors = FieldErrors::new();
        if let Some(username) = username {
            after.username = validation::normalise_login(&username);
            validation::check_username(&mut errors, &after.username);
        }
        if let Some(language) = preferred_language {
            errors.check(
                LANGUAGES.contains(&language.as_str()),
                "preferred_language",
                format!("must be one of {}", LANGUAGES.join(", ")),
            );
            after.preferred_language = language;
        }
        errors.into_result()?;
        self.ensure_unique(&before, &after).await?;
        let diff = Changes::new()
            .field("username", &before.username, &after.username)
            .field(
                "preferred_language",
                &before.preferred_language,
                &after.preferred_language,
            );
        if diff.is_empty() {
            return Ok(before);
        }
        self.save(
            actor,
            after,
            Write::Fields,
            AuditAction::Update,
            diff.into_value(),
            meta,
        )
        .await
    }

    /// Users change their own password, proving they know the current one. Every session
    /// ends, so a stolen session does not survive the change.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current_password: &str,
        new_password: &str,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let current = self
            .accounts
            .password_of(actor.account_id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        let mut errors = FieldErrors::new();
        validation::check_password_as(
            &mut errors,
            "new_password",
            new_password,
            self.password_policy.min_length,
        );
        errors.into_result()?;
        if !self
            .hasher
            .verify(current_password, Some(current.clone()))
            .await?
        {
            return Err(FieldErrors::single(
                "current_password",
                "is not your current password",
            ));
        }
        let password_hash = self.hasher.hash(new_password).await?;
        retry_on_stale(|| async {
            let account = self.me(actor).await?;
            let still = self.accounts.password_of(actor.account_id).await?;
            if still.is_none_or(|still| still.expose_secret() != current.expose_secret()) {
                // Reset by an administrator meanwhile: the proof no longer holds.
                return Err(FieldErrors::single(
                    "current_password",
                    "is not your current password",
                ));
            }
            let details = Changes::new().secret("password").into_value();
            self.save(
                actor,
                account,
                Write::Password(&password_hash),
                AuditAction::Update,
                details,
                meta,
            )
            .await
            .map(drop)
        })
        .await
    }

    /// The account, if the actor may manage it for `purpose`:
    /// - platform admins manage any account; a deleted one they may only read;
    /// - company administrators with `can_manage_users` manage the members of their companies
    ///   (and descendants), except platform admins, deleted accounts, and accounts whose own
    ///   administrator grants reach beyond the actor's (a wider permission, or a company
    ///   outside the actor's subtree); the credentials of any company administrator are
    ///   changed only by platform admins.
    ///
    /// Accounts the actor may not see are "not found"; their own account is "forbidden" (it
    /// has `/auth/me`), as is an account they see but may not change this way.
    async fn managed(
        &self,
        actor: &Actor,
        id: AccountId,
        purpose: Purpose,
    ) -> DomainResult<Account> {
        let account = self
            .accounts
            .find_by_id(id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        if actor.is_platform_admin() {
            return match (account.deleted_at, purpose) {
                (None, _) | (Some(_), Purpose::Read) => Ok(account),
                (Some(_), Purpose::Delete) => Err(DomainError::NotFound("account")),
                (Some(_), _) => Err(DomainError::conflict(
                    "account",
                    "the account is deleted; deletion is final",
                )),
            };
        }
        let lineage = match account.company_id {
            Some(company) => self.companies.lineage(company).await?,
            None => Vec::new(),
        };
        let member_of_scope = actor.may_within(Permission::CanManageUsers, &lineage)
            && account.role != Role::Admin
            && account.deleted_at.is_none();
        if !member_of_scope {
            if id == actor.account_id {
                return Err(DomainError::Forbidden(
                    "use /auth/me to change your own account".into(),
                ));
            }
            return Err(DomainError::NotFound("account"));
        }
        if purpose == Purpose::Read || id == actor.account_id {
            return Ok(account);
        }
        let grants = self.accounts.grants(id).await?;
        if purpose == Purpose::Credentials && !grants.is_empty() {
            return Err(DomainError::Forbidden(
                "only a platform administrator may change the password, email or username of \
                 a company administrator"
                    .into(),
            ));
        }
        if !covers_grants(self.companies.as_ref(), actor, &grants).await? {
            return Err(DomainError::Forbidden(
                "this account administers beyond your own rights; only a platform \
                 administrator may manage it"
                    .into(),
            ));
        }
        Ok(account)
    }

    /// A company the actor may place users in: one they manage users of, and not blocked.
    async fn check_company_target(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        errors: &mut FieldErrors,
    ) -> DomainResult<()> {
        let Some(company) = company else {
            if !actor.is_platform_admin() {
                errors.add(
                    "company_id",
                    "only a platform administrator may remove a company",
                );
            }
            return Ok(());
        };
        let lineage = self.companies.lineage(company).await?;
        if lineage.is_empty() {
            errors.add("company_id", "no company has this id");
        } else if !actor.may_within(Permission::CanManageUsers, &lineage) {
            errors.add("company_id", "you do not manage users of this company");
        } else if self.companies.blocked_in_lineage(company).await?.is_some() {
            errors.add(
                "company_id",
                "the company is blocked; unblock it before moving users into it",
            );
        }
        Ok(())
    }

    async fn ensure_unique(&self, before: &Account, after: &Account) -> DomainResult<()> {
        if after.email != before.email
            && self
                .accounts
                .find_by_login(&after.email)
                .await?
                .is_some_and(|other| other.id != after.id)
        {
            return Err(DomainError::conflict(
                "email",
                "an account with this email already exists",
            ));
        }
        if after.username != before.username
            && self
                .accounts
                .find_by_login(&after.username)
                .await?
                .is_some_and(|other| other.id != after.id)
        {
            return Err(DomainError::conflict(
                "username",
                "an account with this username already exists",
            ));
        }
        Ok(())
    }

    /// Writes the account (as `write` says) and its audit entry together.
    async fn save(
        &self,
        actor: &Actor,
        mut account: Account,
        write: Write<'_>,
        action: AuditAction,
        details: serde_json::Value,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        let now = self.clock.now();
        account.updated_at = now;
        let event = AuditEvent::by(actor, action, ResourceType::Account, account.id)
            .details(details)
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        match write {
            Write::Fields | Write::FieldsEndingSessions => {
                self.accounts.update(tx.as_mut(), &mut account).await?
            }
            Write::Password(hash) => {
                self.accounts
                    .set_password(tx.as_mut(), &mut account, hash)
                    .await?
            }
        }
        if !matches!(write, Write::Fields) {
            self.refresh_tokens
                .revoke_all(tx.as_mut(), account.id, now)
                .await?;
        }
        tx.commit(event, now).await?;
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use dialix_audit::MockAuditLog;
    use dialix_kernel::{CompanyGrant, MockClock, MockCompanyTree, noop_unit_of_work};
    use time::macros::datetime;

    use super::*;
    use crate::ports::{MockAccountRepository, MockPasswordHasher, MockRefreshTokens};
    use crate::{AccountPorts, PasswordPolicy};

    fn account(company: Option<CompanyId>) -> Account {
        let now = datetime!(2026-11-26 12:00 UTC);
        Account {
            id: AccountId::generate(),
            email: "member@acme.uz".into(),
            username: "member".into(),
            role: Role::User,
            company_id: company,
            is_active: true,
            is_blocked: false,
            last_activity: None,
            preferred_language: "uz".into(),
            created_at: now,
            updated_at: now,
            blocked_by_company: None,
            deleted_at: None,
            row_version: Default::default(),
        }
    }

    fn manager_of(company: CompanyId) -> Actor {
        Actor::administrator_of(company, &[Permission::CanManageUsers])
    }

    fn service(
        accounts: MockAccountRepository,
        refresh_tokens: MockRefreshTokens,
        audit: MockAuditLog,
        hasher: MockPasswordHasher,
    ) -> AccountService {
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage().returning(|id| Ok(vec![id]));
        tree.expect_blocked_in_lineage().returning(|_| Ok(None));
        service_over(accounts, refresh_tokens, audit, hasher, tree)
    }

    fn service_over(
        accounts: MockAccountRepository,
        refresh_tokens: MockRefreshTokens,
        audit: MockAuditLog,
        hasher: MockPasswordHasher,
        tree: MockCompanyTree,
    ) -> AccountService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-11-26 12:00 UTC));
        AccountService::new(
            AccountPorts {
                accounts: Arc::new(accounts),
                companies: Arc::new(tree),
                hasher: Arc::new(hasher),
                refresh_tokens: Arc::new(refresh_tokens),
                uow: Arc::new(noop_unit_of_work()),
                audit: Arc::new(audit),
                clock: Arc::new(clock),
            },
            PasswordPolicy::default(),
        )
    }

    fn stored(target: Account) -> MockAccountRepository {
        let mut accounts = MockAccountRepository::new();
        accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(target.clone())));
        accounts.expect_grants().returning(|_| Ok(Vec::new()));
        accounts
    }

    #[tokio::test]
    async fn company_administrators_cannot_grant_the_admin_role() {
        let company = CompanyId::generate();
        let target = account(Some(company));
        let id = target.id;
        let mut accounts = stored(target);
        accounts.expect_update().never();
        let service = service(
            accounts,
            MockRefreshTokens::new(),
            MockAuditLog::new(),
            MockPasswordHasher::new(),
        );
        let changes = AccountChanges {
            role: Some(Role::Admin),
            ..Default::default()
        };
        let error = service
            .update(&manager_of(company), id, changes, &RequestMeta::system())
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Forbidden(_)));
    }

    #[tokio::test]
    async fn accounts_outside_the_managed_companies_are_not_found() {
        let target = account(Some(CompanyId::generate()));
        let id = target.id;
        let service = service(
            stored(target),
            MockRefreshTokens::new(),
            MockAuditLog::new(),
            MockPasswordHasher::new(),
        );
        let error = service
            .get(
                &manager_of(CompanyId::generate()),
                id,
                &RequestMeta::system(),
            )
            .await
            .unwrap_err();
        assert_eq!(error, DomainError::NotFound("account"));
    }

    #[tokio::test]
    async fn a_password_reset_ends_every_session_and_audits_no_secret() {
        let company = CompanyId::generate();
        let target = account(Some(company));
        let id = target.id;
        let mut accounts = stored(target);
        accounts
            .expect_set_password()
            .withf(|_, _, hash| hash.expose_secret() == "new-hash")
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut refresh_tokens = MockRefreshTokens::new();
        refresh_tokens
            .expect_revoke_all()
            .withf(move |_, account, _| *account == id)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut audit = MockAuditLog::new();
        audit
            .expect_append()
            .withf(|_, event, _| {
                event.action == AuditAction::PasswordReset
                    && !event.details.to_string().contains("fresh-password")
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Ok(SecretString::from("new-hash")));
        service(accounts, refresh_tokens, audit, hasher)
            .reset_password(
                &manager_of(company),
                id,
                "fresh-password",
                &RequestMeta::system(),
            )
            .await
            .unwrap();
    }

    /// A stored account administering `company` with `permissions`.
    fn administrator(company: CompanyId, permissions: &[Permission]) -> MockAccountRepository {
        let target = account(Some(company));
        let mut accounts = MockAccountRepository::new();
        accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(target.clone())));
        let grant = CompanyGrant {
            company_id: company,
            permissions: permissions.iter().copied().collect(),
        };
        accounts
            .expect_grants()
            .returning(move |_| Ok(vec![grant.clone()]));
        accounts.expect_update().never();
        accounts
    }

    fn untouched() -> (MockRefreshTokens, MockAuditLog, MockPasswordHasher) {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().never();
        let mut audit = MockAuditLog::new();
        audit.expect_append().never();
        (MockRefreshTokens::new(), audit, hasher)
    }

    #[tokio::test]
    async fn a_co_administrator_with_wider_rights_is_out_of_reach() {
        let company = CompanyId::generate();
        let accounts = administrator(company, &[Permission::CanManageUsers, Permission::CanTopup]);
        let (refresh, audit, hasher) = untouched();
        let error = service(accounts, refresh, audit, hasher)
            .set_blocked(
                &manager_of(company),
                AccountId::generate(),
                true,
                &RequestMeta::system(),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Forbidden(_)), "{error:?}");
    }

    #[tokio::test]
    async fn administrator_credentials_are_for_platform_admins_only() {
        let company = CompanyId::generate();
        let accounts = administrator(company, &[Permission::CanManageUsers]);
        let (refresh, audit, hasher) = untouched();
        let error = service(accounts, refresh, audit, hasher)
            .reset_password(
                &manager_of(company),
                AccountId::generate(),
                "long enough password",
                &RequestMeta::system(),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Forbidden(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_deleted_account_is_gone_for_company_administrators() {
        let company = CompanyId::generate();
        let deleted = Account {
            is_active: false,
            deleted_at: Some(datetime!(2026-11-26 11:00 UTC)),
            ..account(Some(company))
        };
        let id = deleted.id;
        let mut accounts = stored(deleted);
        accounts.expect_update().never();
        let (refresh, audit, hasher) = untouched();
        let changes = AccountChanges {
            is_active: Some(true),
            ..Default::default()
        };
        let error = service(accounts, refresh, audit, hasher)
            .update(&manager_of(company), id, changes, &RequestMeta::system())
            .await
            .unwrap_err();
        assert_eq!(error, DomainError::NotFound("account"));
    }

    #[tokio::test]
    async fn an_account_of_a_blocked_company_stays_blocked() {
        let company = CompanyId::generate();
        let blocked = Account {
            is_blocked: true,
            ..account(Some(company))
        };
        let id = blocked.id;
        let mut accounts = stored(blocked);
        accounts.expect_update().never();
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage().returning(|id| Ok(vec![id]));
        tree.expect_blocked_in_lineage()
            .returning(move |_| Ok(Some(company)));
        let (refresh, audit, hasher) = untouched();
        let error = service_over(accounts, refresh, audit, hasher, tree)
            .set_blocked(&manager_of(company), id, false, &RequestMeta::system())
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                DomainError::Conflict {
                    field: "is_blocked",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_stale_write_is_decided_again_on_a_fresh_read() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let company = CompanyId::generate();
        let target = account(Some(company));
        let id = target.id;
        let mut accounts = MockAccountRepository::new();
        accounts
            .expect_find_by_id()
            .times(2)
            .returning(move |_| Ok(Some(target.clone())));
        accounts.expect_grants().returning(|_| Ok(Vec::new()));
        let writes = Arc::new(AtomicUsize::new(0));
        let counted = writes.clone();
        accounts.expect_update().times(2).returning(move |_, _| {
            if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(DomainError::Stale("account"))
            } else {
                Ok(())
            }
        });
        let mut refresh = MockRefreshTokens::new();
        refresh.expect_revoke_all().returning(|_, _, _| Ok(()));
        let mut audit = MockAuditLog::new();
        audit.expect_append().times(1).returning(|_, _, _| Ok(()));
        let blocked = service(accounts, refresh, audit, MockPasswordHasher::new())
            .set_blocked(&manager_of(company), id, true, &RequestMeta::system())
            .await
            .unwrap();
        assert!(blocked.is_blocked);
        assert_eq!(writes.load(Ordering::SeqCst), 2);
    }
}
