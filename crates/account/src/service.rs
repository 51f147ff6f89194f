use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_kernel::{
    AccountId, Actor, Clock, CompanyTree, DomainError, DomainResult, FieldErrors, RequestMeta,
    ResourceType, Role, RowVersion, UnitOfWork,
};
use serde_json::json;

use crate::ports::{AccountRepository, PasswordHasher, RefreshTokens};
use crate::{Account, NewAccount, validation};

/// The language new accounts start with (the product's home market).
const DEFAULT_LANGUAGE: &str = "uz";

/// Password rules that depend on deployment configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 8 }
    }
}

/// Account management use cases; every change is audited in its own transaction.
pub struct AccountService {
    pub(crate) accounts: Arc<dyn AccountRepository>,
    pub(crate) companies: Arc<dyn CompanyTree>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) refresh_tokens: Arc<dyn RefreshTokens>,
    pub(crate) audited: AuditedUnitOfWork,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) password_policy: PasswordPolicy,
}

/// The adapters `AccountService` works through.
pub struct AccountPorts {
    pub accounts: Arc<dyn AccountRepository>,
    pub companies: Arc<dyn CompanyTree>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub refresh_tokens: Arc<dyn RefreshTokens>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

impl AccountService {
    pub fn new(ports: AccountPorts, password_policy: PasswordPolicy) -> Self {
        Self {
            accounts: ports.accounts,
            companies: ports.companies,
            hasher: ports.hasher,
            refresh_tokens: ports.refresh_tokens,
            audited: AuditedUnitOfWork::new(ports.uow, ports.audit),
            clock: ports.clock,
            password_policy,
        }
    }

    /// The caller's own account.
    pub async fn me(&self, actor: &Actor) -> DomainResult<Account> {
        self.accounts
            .find_by_id(actor.account_id)
            .await?
            .ok_or(DomainError::NotFound("account"))
    }

    /// Creates an account; platform admins only.
    pub async fn create(
        &self,
        actor: &Actor,
        input: NewAccount,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        if !actor.is_platform_admin() {
            return Err(DomainError::Forbidden(
                "only a platform administrator may create accounts".into(),
            ));
        }
        self.create_unchecked(Some(actor), input, meta).await
    }

    /// Makes sure a platform admin with `email` exists, so a fresh installation can be used.
    /// An existing account is left exactly as it is (its password is not reset).
    /// Returns whether an account was created.
    pub async fn ensure_platform_admin(&self, email: &str, password: &str) -> DomainResult<bool> {
        let email = validation::normalise_login(email);
        if self.accounts.find_by_login(&email).await?.is_some() {
            return Ok(false);
        }
        let username: String = email
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .take(validation::USERNAME_MAX)
            .collect();
        self.create_unchecked(
            None,
            NewAccount {
                email,
                username,
                password: password.to_owned(),
                role: Role::Admin,
                company_id: None,
            },
            &RequestMeta::system(),
        )
        .await?;
        Ok(true)
    }

    /// Creates the account; `actor` is `None` for the start-up bootstrap.
    async fn create_unchecked(
        &self,
        actor: Option<&Actor>,
        input: NewAccount,
        meta: &RequestMeta,
    ) -> DomainResult<Account> {
        let email = validation::normalise_login(&input.email);
        let username = validation::normalise_login(&input.username);
        let mut errors = FieldErrors::new();
        validation::check_email(&mut errors, &email);
        validation::check_username(&mut errors, &username);
        validation::check_password(
            &mut errors,
            &input.password,
            self.password_policy.min_length,
        );
        if let Some(company_id) = input.company_id {
            if self.companies.lineage(company_id).await?.is_empty() {
                errors.add("company_id", "no company has this id");
            } else if self
                .companies
                .blocked_in_lineage(company_id)
                .await?
                .is_some()
            {
                errors.add(
                    "company_id",
                    "the company is blocked; unblock it before adding users to it",
                );
            }
        }
        errors.into_result()?;

        if self.accounts.find_by_login(&email).await?.is_some() {
            return Err(DomainError::conflict(
                "email",
                "an account with this email already exists",
            ));
        }
        if self.accounts.find_by_login(&username).await?.is_some() {
            return Err(DomainError::conflict(
                "username",
                "an account with this username already exists",
            ));
        }

        let now = self.clock.now();
        let password_hash = self.hasher.hash(&input.password).await?;
        let account = Account {
            id: AccountId::generate(),
            email,
            username,
            role: input.role,
            company_id: input.company_id,
            is_active: true,
            is_blocked: false,
            last_activity: None,
            preferred_language: DEFAULT_LANGUAGE.to_owned(),
            created_at: now,
            updated_at: now,
            blocked_by_company: None,
            deleted_at: None,
            row_version: RowVersion::default(),
        };
        let event = match actor {
            Some(actor) => AuditEvent::by(
                actor,
                AuditAction::Create,
                ResourceType::Account,
                account.id,
            ),
            None => AuditEvent {
                resource_id: Some(account.id.to_string()),
                ..AuditEvent::system(AuditAction::Create, ResourceType::Account)
            },
        }
        .details(json!({
            "email": account.email,
            "username": account.username,
            "role": account.role.as_str(),
            "company_id": account.company_id,
            "bootstrap": actor.is_none(),
        }))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.accounts
            .insert(tx.as_mut(), &account, &password_hash)
            .await?;
        tx.commit(event, now).await?;
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use dialix_audit::MockAuditLog;
    use dialix_kernel::{CompanyId, MockClock, noop_unit_of_work};
    use time::macros::datetime;

    use secrecy::{ExposeSecret, SecretString};

    use super::*;
    use dialix_kernel::MockCompanyTree;

    use crate::ports::{MockAccountRepository, MockPasswordHasher, MockRefreshTokens};

    fn admin() -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::Admin,
            company_id: None,
            grants: vec![],
        }
    }

    fn input() -> NewAccount {
        NewAccount {
            email: "New.User@Dialix.uz".into(),
            username: "New.User".into(),
            password: "long enough".into(),
            role: Role::User,
            company_id: None,
        }
    }

    fn service(
        accounts: MockAccountRepository,
        companies: MockCompanyTree,
        hasher: MockPasswordHasher,
    ) -> AccountService {
        service_auditing(accounts, companies, hasher, MockAuditLog::new())
    }

    fn service_auditing(
        accounts: MockAccountRepository,
        companies: MockCompanyTree,
        hasher: MockPasswordHasher,
        audit: MockAuditLog,
    ) -> AccountService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-11-26 12:00 UTC));
        AccountService::new(
            AccountPorts {
                accounts: Arc::new(accounts),
                companies: Arc::new(companies),
                hasher: Arc::new(hasher),
                refresh_tokens: Arc::new(MockRefreshTokens::new()),
                uow: Arc::new(noop_unit_of_work()),
                audit: Arc::new(audit),
                clock: Arc::new(clock),
            },
            PasswordPolicy::default(),
        )
    }

    #[tokio::test]
    async fn only_platform_admins_create_accounts() {
        let mut accounts = MockAccountRepository::new();
        accounts.expect_insert().never();
        let user = Actor {
            role: Role::User,
            ..admin()
        };
        let error = service(accounts, MockCompanyTree::new(), MockPasswordHasher::new())
            .create(&user, input(), &RequestMeta::system())
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Forbidden(_)));
    }

    #[tokio::test]
    async fn every_invalid_field_is_reported_at_once() {
        let mut companies = MockCompanyTree::new();
        companies.expect_lineage().returning(|_| Ok(vec![]));
        let mut accounts = MockAccountRepository::new();
        accounts.expect_insert().never();
        let bad = NewAccount {
            email: "not-an-email".into(),
            username: "x".into(),
            password: "short".into(),
            role: Role::User,
            company_id: Some(CompanyId::generate()),
        };
        let Err(DomainError::Validation(errors)) =
            service(accounts, companies, MockPasswordHasher::new())
                .create(&admin(), bad, &RequestMeta::system())
                .await
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["company_id", "email", "password", "username"]);
    }

    #[tokio::test]
    async fn a_taken_email_is_a_conflict_on_email() {
        let mut accounts = MockAccountRepository::new();
        accounts.expect_find_by_login().returning(|login| {
            let taken = login == "new.user@dialix.uz";
            Ok(taken.then(|| existing_account(login)))
        });
        accounts.expect_insert().never();
        let error = service(accounts, MockCompanyTree::new(), MockPasswordHasher::new())
            .create(&admin(), input(), &RequestMeta::system())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            DomainError::Conflict { field: "email", .. }
        ));
    }

    #[tokio::test]
    async fn a_new_account_is_stored_normalised_with_a_hashed_password() {
        let mut accounts = MockAccountRepository::new();
        accounts.expect_find_by_login().returning(|_| Ok(None));
        accounts
            .expect_insert()
            .withf(|_, a, hash| {
                a.email == "new.user@dialix.uz"
                    && a.username == "new.user"
                    && hash.expose_secret() == "hashed"
                    && a.is_active
                    && !a.is_blocked
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .withf(|p| p == "long enough")
            .returning(|_| Ok(SecretString::from("hashed")));
        let mut audit = MockAuditLog::new();
        audit
            .expect_append()
            .withf(|_, event, _| {
                event.action == dialix_audit::AuditAction::Create
                    && event.details["email"] == "new.user@dialix.uz"
                    && !event.details.to_string().contains("long enough")
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let created = service_auditing(accounts, MockCompanyTree::new(), hasher, audit)
            .create(&admin(), input(), &RequestMeta::system())
            .await
            .unwrap();
        assert_eq!(created.role, Role::User);
    }

    #[tokio::test]
    async fn the_bootstrap_admin_is_not_touched_when_it_exists() {
        let mut accounts = MockAccountRepository::new();
        accounts
            .expect_find_by_login()
            .returning(|login| Ok(Some(existing_account(login))));
        accounts.expect_insert().never();
        let created = service(accounts, MockCompanyTree::new(), MockPasswordHasher::new())
            .ensure_platform_admin("admin@dialix.local", "whatever")
            .await
            .unwrap();
        assert!(!created);
    }

    fn existing_account(email: &str) -> Account {
        let now = datetime!(2026-11-26 12:00 UTC);
        Account {
            id: AccountId::generate(),
            email: email.into(),
            username: "someone".into(),
            role: Role::Admin,
            company_id: None,
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
}
