use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_kernel::{
    Actor, Clock, DomainError, DomainResult, RequestMeta, ResourceType, UnitOfWork,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::ports::{
    AccessClaims, AccessTokens, AccountRepository, LoginAttempts, PasswordHasher,
    RefreshTokenState, RefreshTokens, SessionAccount,
};
use crate::{Account, validation};

/// The one message for every credential failure, so it never reveals whether a login exists.
const INVALID_CREDENTIALS: &str = "invalid login or password";
const INVALID_TOKEN: &str = "the access token is missing, invalid or expired";
const INVALID_REFRESH: &str = "the refresh token is invalid or expired";
const SESSION_ENDED: &str =
    "the session has ended (logged out, revoked, or the password changed); log in again";

/// Token lifetimes and the failed-login rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthPolicy {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Failed logins allowed per login name within `failure_window`.
    pub max_failures_per_login: u32,
    /// Failed logins allowed per client address within `failure_window`.
    pub max_failures_per_address: u32,
    pub failure_window: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::minutes(15),
            refresh_token_ttl: Duration::days(30),
            max_failures_per_login: 5,
            max_failures_per_address: 20,
            failure_window: Duration::minutes(15),
        }
    }
}

/// A login request: `login` is an email or a username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginInput {
    pub login: String,
    pub password: String,
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in: Duration,
    pub refresh_token: String,
}

/// Login, refresh, logout and per-request authentication. Every outcome that changes state
/// (including a failed login) is written to the activity log in the same transaction.
pub struct AuthService {
    accounts: Arc<dyn AccountRepository>,
    hasher: Arc<dyn PasswordHasher>,
    access_tokens: Arc<dyn AccessTokens>,
    refresh_tokens: Arc<dyn RefreshTokens>,
    attempts: Arc<dyn LoginAttempts>,
    audited: AuditedUnitOfWork,
    clock: Arc<dyn Clock>,
    policy: AuthPolicy,
}

/// The adapters `AuthService` works through.
pub struct AuthPorts {
    pub accounts: Arc<dyn AccountRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub access_tokens: Arc<dyn AccessTokens>,
    pub refresh_tokens: Arc<dyn RefreshTokens>,
    pub attempts: Arc<dyn LoginAttempts>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

impl AuthService {
    pub fn new(ports: AuthPorts, policy: AuthPolicy) -> Self {
        Self {
            accounts: ports.accounts,
            hasher: ports.hasher,
            access_tokens: ports.access_tokens,
            refresh_tokens: ports.refresh_tokens,
            attempts: ports.attempts,
            audited: AuditedUnitOfWork::new(ports.uow, ports.audit),
            clock: ports.clock,
            policy,
        }
    }

    /// Checks the password and opens a new session (a new refresh-token family).
    pub async fn login(&self, input: LoginInput, meta: &RequestMeta) -> DomainResult<TokenPair> {
        let now = self.clock.now();
        let login = validation::normalise_login(&input.login);
        // A login with control characters cannot exist; it is not looked up at all.
        let (account, stored_hash) = match validation::is_plain_text(&login) {
            true => self.accounts.find_with_password(&login).await?.unzip(),
            false => (None, None),
        };
        // Failures count per account once the name resolves to one, so its email and its
        // username share one allowance.
        let login_key = match &account {
            Some(account) => format!("account:{}", account.id),
            None => format!("login:{login}"),
        };
        let address_key = meta.ip_address.as_ref().map(|a| format!("addr:{a}"));

        let mut throttled = self
            .throttled(&login_key, self.policy.max_failures_per_login, now)
            .await?;
        if let Some(key) = &address_key {
            throttled = throttled.or(self
                .throttled(key, self.policy.max_failures_per_address, now)
                .await?);
        }
        if let Some((key, retry_after_secs)) = throttled {
            // One audit entry per throttled key and window, however many requests arrive:
            // anonymous callers cannot grow the log without bound.
            let marker = format!("throttled:{key}");
            let since = now - self.policy.failure_window;
            if self.attempts.failures_since(&marker, since).await?.count == 0 {
                self.attempts.record_failure(&marker, now).await?;
                self.record_failed_login(account.as_ref(), &login, "rate_limited", meta, now)
                    .await?;
            }
            return Err(DomainError::RateLimited { retry_after_secs });
        }

        let password_ok = self.hasher.verify(&input.password, stored_hash).await?;
        let account = match account {
            Some(account) if password_ok => account,
            account => {
                self.attempts.record_failure(&login_key, now).await?;
                if let Some(key) = &address_key {
                    self.attempts.record_failure(key, now).await?;
                }
                self.record_failed_login(
                    account.as_ref(),
                    &login,
                    "invalid_credentials",
                    meta,
                    now,
                )
                .await?;
                return Err(DomainError::Unauthenticated(INVALID_CREDENTIALS.into()));
            }
        };
        // The password was right, so saying why the account is refused reveals nothing.
        if let Some(reason) = account.access_refusal() {
            let code = if account.is_active {
                "blocked"
            } else {
                "deactivated"
            };
            self.record_failed_login(Some(&account), &login, code, meta, now)
                .await?;
            return Err(DomainError::Forbidden(reason.into()));
        }
        self.attempts.clear(&login_key).await?;

        let mut tx = self.audited.begin().await?;
        self.accounts
            .touch_last_activity(tx.as_mut(), account.id, now)
            .await?;
        let pair = self
            .issue_pair(tx.as_mut(), &account, Uuid::now_v7(), now)
            .await?;
        let event = self
            .account_event(&account, AuditAction::Login)
            .details(json!({"method": "password"}))
            .meta(meta);
        tx.commit(event, now).await?;
        Ok(pair)
    }

    /// Exchanges a refresh token for a new pair. The old token is spent; presenting a spent
    /// token again revokes its whole family (the session was stolen or leaked).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        meta: &RequestMeta,
    ) -> DomainResult<TokenPair> {
        let now = self.clock.now();
        let state = self.live_or_replayed(refresh_token, now).await?;
        if state.revoked {
            // The session ended (logout, block, password change, or an earlier replay):
            // refused, but it is no new sign of theft.
            return Err(DomainError::Unauthenticated(SESSION_ENDED.into()));
        }
        let account = self
            .accounts
            .find_by_id(state.account_id)
            .await?
            .ok_or_else(|| DomainError::Unauthenticated(INVALID_REFRESH.into()))?;
        if state.spent {
            self.revoke(&state, &account, AuditAction::TokenReuse, meta, now)
                .await?;
            return Err(DomainError::Unauthenticated(
                "the refresh token was already used; the session has been revoked".into(),
            ));
        }
        if let Some(reason) = account.access_refusal() {
            self.revoke(&state, &account, AuditAction::Logout, meta, now)
                .await?;
            return Err(DomainError::Unauthenticated(reason.into()));
        }

        let mut tx = self.audited.begin().await?;
        if !self
            .refresh_tokens
            .spend(tx.as_mut(), state.id, now)
            .await?
        {
            // A concurrent request spent it first: the same token was used twice.
            drop(tx);
            self.revoke(&state, &account, AuditAction::TokenReuse, meta, now)
                .await?;
            return Err(DomainError::Unauthenticated(
                "the refresh token was already used; the session has been revoked".into(),
            ));
        }
        let pair = self
            .issue_pair(tx.as_mut(), &account, state.family, now)
            .await?;
        let event = self
            .account_event(&account, AuditAction::TokenRefresh)
            .meta(meta);
        tx.commit(event, now).await?;
        Ok(pair)
    }

    /// Ends the session the refresh token belongs to. Idempotent: an unknown, expired or
    /// already revoked token is not an error, the session is over either way.
    pub async fn logout(&self, refresh_token: &str, meta: &RequestMeta) -> DomainResult<()> {
        let now = self.clock.now();
        let Ok(state) = self.live_or_replayed(refresh_token, now).await else {
            return Ok(());
        };
        if let Some(account) = self.accounts.find_by_id(state.account_id).await? {
            self.revoke(&state, &account, AuditAction::Logout, meta, now)
                .await?;
        }
        Ok(())
    }

    /// Resolves an access token to the acting account, re-reading the account so that a
    /// block or deactivation takes effect on the very next request, and checking the
    /// token's session so that a logout, a detected replay, a password change or reset, a
    /// block or a deletion ends the access tokens of the sessions it ends. One read: the
    /// account, its session and its grants come together.
    pub async fn authenticate(&self, access_token: &str) -> DomainResult<(Actor, Account)> {
        let claims = self
            .access_tokens
            .verify(access_token, self.clock.now())
            .map_err(|_| DomainError::Unauthenticated(INVALID_TOKEN.into()))?;
        let SessionAccount {
            account,
            session_live,
            grants,
        } = self
            .accounts
            .find_for_session(claims.account_id, claims.session)
            .await?
            .ok_or_else(|| DomainError::Unauthenticated(INVALID_TOKEN.into()))?;
        if let Some(reason) = account.access_refusal() {
            return Err(DomainError::Unauthenticated(reason.into()));
        }
        if !session_live {
            return Err(DomainError::Unauthenticated(SESSION_ENDED.into()));
        }
        Ok((account.actor(grants), account))
    }

    /// The stored token, unless it is unknown or expired (then `Unauthenticated`).
    async fn live_or_replayed(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> DomainResult<RefreshTokenState> {
        match self.refresh_tokens.find(token).await? {
            Some(state) if state.expires_at > now => Ok(state),
            _ => Err(DomainError::Unauthenticated(INVALID_REFRESH.into())),
        }
    }

    /// Revokes the token's whole family and records why.
    async fn revoke(
        &self,
        state: &RefreshTokenState,
        account: &Account,
        action: AuditAction,
        meta: &RequestMeta,
        now: OffsetDateTime,
    ) -> DomainResult<()> {
        let mut tx = self.audited.begin().await?;
        self.refresh_tokens
            .revoke_family(tx.as_mut(), state.family, now)
            .await?;
        let event = self
            .account_event(account, action)
            .details(json!({"session": state.family}))
            .meta(meta);
        tx.commit(event, now).await
    }

    async fn record_failed_login(
        &self,
        account: Option<&Account>,
        login: &str,
        reason: &str,
        meta: &RequestMeta,
        now: OffsetDateTime,
    ) -> DomainResult<()> {
        let event = match account {
            Some(account) => self.account_event(account, AuditAction::LoginFailed),
            None => AuditEvent::system(AuditAction::LoginFailed, ResourceType::Account),
        };
        let login: String = login.chars().take(validation::LOGIN_LOG_MAX).collect();
        let event = event
            .details(json!({"login": login, "reason": reason}))
            .meta(meta);
        self.audited.record_alone(event, now).await
    }

    /// An event about `account`, attributed to it (it is the one logging in or out).
    fn account_event(&self, account: &Account, action: AuditAction) -> AuditEvent {
        AuditEvent::by(
            &account.actor(Vec::new()),
            action,
            ResourceType::Account,
            account.id,
        )
    }

    /// The key and the seconds to wait if `key` has used up its failures, `None` if it may
    /// try.
    async fn throttled(
        &self,
        key: &str,
        max_failures: u32,
        now: OffsetDateTime,
    ) -> DomainResult<Option<(String, u64)>> {
        let window = self
            .attempts
            .failures_since(key, now - self.policy.failure_window)
            .await?;
        if window.count < max_failures {
            return Ok(None);
        }
        let frees_at = window.oldest.unwrap_or(now) + self.policy.failure_window;
        Ok(Some((
            key.to_owned(),
            (frees_at - now).whole_seconds().max(1) as u64,
        )))
    }

    async fn issue_pair(
        &self,
        tx: &mut dialix_kernel::Tx,
        account: &Account,
        family: Uuid,
        now: OffsetDateTime,
    ) -> DomainResult<TokenPair> {
        let access_token = self.access_tokens.issue(&AccessClaims {
            account_id: account.id,
            session: family,
            issued_at: now,
            expires_at: now + self.policy.access_token_ttl,
        })?;
        let refresh_token = self
            .refresh_tokens
            .issue(
                tx,
                account.id,
                family,
                now,
                now + self.policy.refresh_token_ttl,
            )
            .await?;
        Ok(TokenPair {
            access_token,
            access_expires_in: self.policy.access_token_ttl,
            refresh_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use dialix_audit::MockAuditLog;
    use dialix_kernel::{
        AccountId, CompanyGrant, CompanyId, MockClock, Permission, Role, noop_unit_of_work,
    };
    use mockall::predicate::eq;
    use time::macros::datetime;

    use secrecy::{ExposeSecret, SecretString};

    use super::*;
    use crate::ports::{
        FailureWindow, MockAccessTokens, MockAccountRepository, MockLoginAttempts,
        MockPasswordHasher, MockRefreshTokens,
    };

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    fn stored_hash() -> SecretString {
        SecretString::from("$argon2id$stored")
    }

    fn account(is_blocked: bool) -> Account {
        Account {
            id: AccountId::generate(),
            email: "op@dialix.uz".into(),
            username: "op".into(),
            role: Role::User,
            company_id: None,
            is_active: true,
            is_blocked,
            last_activity: None,
            preferred_language: "uz".into(),
            created_at: NOW,
            updated_at: NOW,
            blocked_by_company: None,
            deleted_at: None,
            row_version: Default::default(),
        }
    }

    struct Mocks {
        accounts: MockAccountRepository,
        hasher: MockPasswordHasher,
        access: MockAccessTokens,
        refresh: MockRefreshTokens,
        attempts: MockLoginAttempts,
        audit: MockAuditLog,
    }

    impl Mocks {
        fn new() -> Self {
            Self {
                accounts: MockAccountRepository::new(),
                hasher: MockPasswordHasher::new(),
                access: MockAccessTokens::new(),
                refresh: MockRefreshTokens::new(),
                attempts: MockLoginAttempts::new(),
                audit: MockAuditLog::new(),
            }
        }

        fn service(self) -> AuthService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            AuthService::new(
                AuthPorts {
                    accounts: Arc::new(self.accounts),
                    hasher: Arc::new(self.hasher),
                    access_tokens: Arc::new(self.access),
                    refresh_tokens: Arc::new(self.refresh),
                    attempts: Arc::new(self.attempts),
                    uow: Arc::new(noop_unit_of_work()),
                    audit: Arc::new(self.audit),
                    clock: Arc::new(clock),
                },
                AuthPolicy::default(),
            )
        }

        fn no_recent_failures(&mut self) {
            self.attempts
                .expect_failures_since()
                .returning(|_, _| Ok(FailureWindow::default()));
        }

        /// Expects exactly one audit entry, with this action.
        fn audits(&mut self, action: AuditAction) {
            self.audit
                .expect_append()
                .withf(move |_, event, at| event.action == action && *at == NOW)
                .times(1)
                .returning(|_, _, _| Ok(()));
        }
    }

    fn login(login: &str, password: &str) -> LoginInput {
        LoginInput {
            login: login.into(),
            password: password.into(),
        }
    }

    fn meta() -> RequestMeta {
        RequestMeta {
            request_id: Some("req-1".into()),
            ip_address: Some("10.0.0.1".into()),
            user_agent: None,
        }
    }

    #[tokio::test]
    async fn a_correct_password_opens_a_session_and_is_audited() {
        let stored = account(false);
        let id = stored.id;
        let mut mocks = Mocks::new();
        mocks.no_recent_failures();
        mocks
            .accounts
            .expect_find_with_password()
            .with(eq("op@dialix.uz"))
            .returning(move |_| Ok(Some((stored.clone(), stored_hash()))));
        mocks
            .hasher
            .expect_verify()
            .withf(|password, hash| {
                password == "secret-pass"
                    && hash
                        .as_ref()
                        .is_some_and(|h| h.expose_secret() == "$argon2id$stored")
            })
            .returning(|_, _| Ok(true));
        mocks
            .attempts
            .expect_clear()
            .with(eq(format!("account:{id}")))
            .returning(|_| Ok(()));
        mocks
            .accounts
            .expect_touch_last_activity()
            .withf(move |_, account, at| *account == id && *at == NOW)
            .returning(|_, _, _| Ok(()));
        mocks
            .access
            .expect_issue()
            .withf(move |c| c.account_id == id && c.expires_at == NOW + Duration::minutes(15))
            .returning(|_| Ok("access".into()));
        mocks
            .refresh
            .expect_issue()
            .withf(move |_, a, _, _, exp| *a == id && *exp == NOW + Duration::days(30))
            .returning(|_, _, _, _, _| Ok("refresh".into()));
        mocks
            .audit
            .expect_append()
            .withf(move |_, event, _| {
                event.action == AuditAction::Login
                    && event.user_id == Some(id)
                    && event.meta.request_id.as_deref() == Some("req-1")
            })
            .times(1)
            .returning(|_, _, _| Ok(()));

        let pair = mocks
            .service()
            .login(login("  OP@Dialix.uz ", "secret-pass"), &meta())
            .await
            .unwrap();
        assert_eq!(pair.access_token, "access");
        assert_eq!(pair.refresh_token, "refresh");
        assert_eq!(pair.access_expires_in, Duration::minutes(15));
    }

    #[tokio::test]
    async fn unknown_login_and_wrong_password_fail_alike_are_counted_and_audited() {
        for known in [true, false] {
            let mut mocks = Mocks::new();
            mocks.no_recent_failures();
            let stored = account(false);
            // A known account is counted under its id (email and username share it).
            let counted_as = if known {
                format!("account:{}", stored.id)
            } else {
                "login:op@dialix.uz".to_owned()
            };
            mocks
                .accounts
                .expect_find_with_password()
                .returning(move |_| Ok(known.then(|| (stored.clone(), stored_hash()))));
            mocks
                .hasher
                .expect_verify()
                .withf(move |_, hash| hash.is_some() == known)
                .returning(|_, _| Ok(false));
            mocks
                .attempts
                .expect_record_failure()
                .with(eq(counted_as), eq(NOW))
                .times(1)
                .returning(|_, _| Ok(()));
            mocks
                .attempts
                .expect_record_failure()
                .with(eq("addr:10.0.0.1"), eq(NOW))
                .times(1)
                .returning(|_, _| Ok(()));
            mocks
                .audit
                .expect_append()
                .withf(move |_, event, _| {
                    event.action == AuditAction::LoginFailed
                        && event.user_id.is_some() == known
                        && event.details["reason"] == "invalid_credentials"
                        && !event.details.to_string().contains("wrong")
                })
                .times(1)
                .returning(|_, _, _| Ok(()));

            let error = mocks
                .service()
                .login(login("op@dialix.uz", "wrong"), &meta())
                .await
                .unwrap_err();
            assert_eq!(
                error,
                DomainError::Unauthenticated(INVALID_CREDENTIALS.into())
            );
        }
    }

    #[tokio::test]
    async fn a_blocked_account_cannot_log_in_even_with_the_right_password() {
        let mut mocks = Mocks::new();
        mocks.no_recent_failures();
        mocks
            .accounts
            .expect_find_with_password()
            .returning(|_| Ok(Some((account(true), stored_hash()))));
        mocks.hasher.expect_verify().returning(|_, _| Ok(true));
        mocks.access.expect_issue().never();
        mocks.audits(AuditAction::LoginFailed);

        let error = mocks
            .service()
            .login(login("op", "secret-pass"), &meta())
            .await
            .unwrap_err();
        assert_eq!(
            error,
            DomainError::Forbidden("this account is blocked".into())
        );
    }

    #[tokio::test]
    async fn too_many_failures_are_refused_before_the_password_is_checked() {
        let mut mocks = Mocks::new();
        mocks
            .attempts
            .expect_failures_since()
            .with(eq("login:op"), eq(NOW - Duration::minutes(15)))
            .returning(|_, _| {
                Ok(FailureWindow {
                    count: 5,
                    oldest: Some(NOW - Duration::minutes(10)),
                })
            });
        mocks
            .attempts
            .expect_failures_since()
            .returning(|_, _| Ok(FailureWindow::default()));
        mocks
            .attempts
            .expect_record_failure()
            .with(eq("throttled:login:op"), eq(NOW))
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
            .accounts
            .expect_find_with_password()
            .returning(|_| Ok(None));
        mocks.hasher.expect_verify().never();
        mocks.audits(AuditAction::LoginFailed);

        let error = mocks
            .service()
            .login(login("op", "guess"), &meta())
            .await
            .unwrap_err();
        assert_eq!(
            error,
            DomainError::RateLimited {
                retry_after_secs: 300
            }
        );
    }

    fn token_state(account_id: AccountId, spent: bool) -> RefreshTokenState {
        RefreshTokenState {
            id: Uuid::now_v7(),
            account_id,
            family: Uuid::now_v7(),
            expires_at: NOW + Duration::days(1),
            spent,
            revoked: false,
        }
    }

    #[tokio::test]
    async fn a_token_of_an_ended_session_is_refused_without_crying_theft() {
        let state = RefreshTokenState {
            revoked: true,
            ..token_state(AccountId::generate(), true)
        };
        let mut mocks = Mocks::new();
        mocks
            .refresh
            .expect_find()
            .returning(move |_| Ok(Some(state)));
        mocks.refresh.expect_revoke_family().never();
        mocks.refresh.expect_spend().never();
        mocks.audit.expect_append().never();

        let error = mocks.service().refresh("old", &meta()).await.unwrap_err();
        assert_eq!(error, DomainError::Unauthenticated(SESSION_ENDED.into()));
    }

    /// An access token of `account_id` for `session`, accepted by the signer.
    fn verifies_as(mocks: &mut Mocks, account_id: AccountId, session: Uuid) {
        mocks.access.expect_verify().returning(move |_, _| {
            Ok(AccessClaims {
                account_id,
                session,
                issued_at: NOW,
                expires_at: NOW + Duration::minutes(15),
            })
        });
    }

    /// `find_for_session` of exactly (`account.id`, `session`), answered once.
    fn finds_for_session(
        mocks: &mut Mocks,
        account: Account,
        session: Uuid,
        session_live: bool,
        grants: Vec<CompanyGrant>,
    ) {
        mocks
            .accounts
            .expect_find_for_session()
            .with(eq(account.id), eq(session))
            .times(1)
            .returning(move |_, _| {
                Ok(Some(SessionAccount {
                    account: account.clone(),
                    session_live,
                    grants: grants.clone(),
                }))
            });
    }

    #[tokio::test]
    async fn an_access_token_dies_with_its_session() {
        let stored = account(false);
        let session = Uuid::now_v7();
        let mut mocks = Mocks::new();
        verifies_as(&mut mocks, stored.id, session);
        finds_for_session(&mut mocks, stored, session, false, Vec::new());

        let error = mocks.service().authenticate("token").await.unwrap_err();
        assert_eq!(error, DomainError::Unauthenticated(SESSION_ENDED.into()));
    }

    #[tokio::test]
    async fn a_live_session_resolves_to_the_actor_with_its_grants() {
        let stored = account(false);
        let session = Uuid::now_v7();
        let grant = CompanyGrant {
            company_id: CompanyId::generate(),
            permissions: [Permission::CanManageUsers].into(),
        };
        let mut mocks = Mocks::new();
        verifies_as(&mut mocks, stored.id, session);
        finds_for_session(
            &mut mocks,
            stored.clone(),
            session,
            true,
            vec![grant.clone()],
        );

        let (actor, account) = mocks.service().authenticate("token").await.unwrap();
        assert_eq!(account, stored);
        assert_eq!(actor, stored.actor(vec![grant]));
    }

    #[tokio::test]
    async fn an_access_token_of_an_unknown_account_is_invalid() {
        let mut mocks = Mocks::new();
        verifies_as(&mut mocks, AccountId::generate(), Uuid::now_v7());
        mocks
            .accounts
            .expect_find_for_session()
            .returning(|_, _| Ok(None));

        let error = mocks.service().authenticate("token").await.unwrap_err();
        assert_eq!(error, DomainError::Unauthenticated(INVALID_TOKEN.into()));
    }

    #[tokio::test]
    async fn replaying_a_spent_refresh_token_revokes_the_session() {
        let stored = account(false);
        let state = token_state(stored.id, true);
        let family = state.family;
        let mut mocks = Mocks::new();
        mocks
            .refresh
            .expect_find()
            .returning(move |_| Ok(Some(state)));
        mocks
            .accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks
            .refresh
            .expect_revoke_family()
            .withf(move |_, f, at| *f == family && *at == NOW)
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.refresh.expect_issue().never();
        mocks.audits(AuditAction::TokenReuse);

        let error = mocks.service().refresh("old", &meta()).await.unwrap_err();
        assert!(matches!(error, DomainError::Unauthenticated(_)));
    }

    #[tokio::test]
    async fn losing_a_race_to_spend_a_token_counts_as_a_replay() {
        let stored = account(false);
        let state = token_state(stored.id, false);
        let mut mocks = Mocks::new();
        mocks
            .refresh
            .expect_find()
            .returning(move |_| Ok(Some(state)));
        mocks
            .accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks.refresh.expect_spend().returning(|_, _, _| Ok(false));
        mocks
            .refresh
            .expect_revoke_family()
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.refresh.expect_issue().never();
        mocks.audits(AuditAction::TokenReuse);

        assert!(mocks.service().refresh("r1", &meta()).await.is_err());
    }

    #[tokio::test]
    async fn a_live_refresh_token_rotates_within_its_family() {
        let stored = account(false);
        let state = token_state(stored.id, false);
        let family = state.family;
        let mut mocks = Mocks::new();
        mocks
            .refresh
            .expect_find()
            .returning(move |_| Ok(Some(state)));
        mocks
            .accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks.refresh.expect_spend().returning(|_, _, _| Ok(true));
        mocks.access.expect_issue().returning(|_| Ok("a2".into()));
        mocks
            .refresh
            .expect_issue()
            .withf(move |_, _, f, _, _| *f == family)
            .returning(|_, _, _, _, _| Ok("r2".into()));
        mocks.audits(AuditAction::TokenRefresh);

        let pair = mocks.service().refresh("r1", &meta()).await.unwrap();
        assert_eq!(pair.refresh_token, "r2");
    }

    #[tokio::test]
    async fn an_expired_refresh_token_is_refused_without_side_effects() {
        let mut state = token_state(AccountId::generate(), false);
        state.expires_at = NOW;
        let mut mocks = Mocks::new();
        mocks
            .refresh
            .expect_find()
            .returning(move |_| Ok(Some(state)));
        mocks.refresh.expect_spend().never();
        mocks.audit.expect_append().never();
        assert!(mocks.service().refresh("old", &meta()).await.is_err());
    }

    #[tokio::test]
    async fn a_valid_token_of_a_blocked_account_is_refused() {
        // Refused as blocked, whatever became of its session: the account is checked first.
        for session_live in [true, false] {
            let stored = account(true);
            let session = Uuid::now_v7();
            let mut mocks = Mocks::new();
            verifies_as(&mut mocks, stored.id, session);
            finds_for_session(&mut mocks, stored, session, session_live, Vec::new());

            let error = mocks.service().authenticate("token").await.unwrap_err();
            assert_eq!(
                error,
                DomainError::Unauthenticated("this account is blocked".into())
            );
        }
    }
}
