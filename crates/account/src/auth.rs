use std::sync::Arc;

use dialix_kernel::{Actor, Clock, DomainError, DomainResult};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::ports::{
    AccessClaims, AccessTokens, AccountRepository, LoginAttempts, PasswordHasher, RefreshOutcome,
    RefreshTokens,
};
use crate::{Account, validation};

/// The one message for every credential failure, so it never reveals whether a login exists.
const INVALID_CREDENTIALS: &str = "invalid login or password";
const INVALID_TOKEN: &str = "the access token is missing, invalid or expired";
const INVALID_REFRESH: &str = "the refresh token is invalid or expired";

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
    /// The client's address, when known, for per-address rate limiting.
    pub client_address: Option<String>,
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in: Duration,
    pub refresh_token: String,
}

/// Login, refresh, logout and per-request authentication.
pub struct AuthService {
    accounts: Arc<dyn AccountRepository>,
    hasher: Arc<dyn PasswordHasher>,
    access_tokens: Arc<dyn AccessTokens>,
    refresh_tokens: Arc<dyn RefreshTokens>,
    attempts: Arc<dyn LoginAttempts>,
    clock: Arc<dyn Clock>,
    policy: AuthPolicy,
}

impl AuthService {
    pub fn new(
        accounts: Arc<dyn AccountRepository>,
        hasher: Arc<dyn PasswordHasher>,
        access_tokens: Arc<dyn AccessTokens>,
        refresh_tokens: Arc<dyn RefreshTokens>,
        attempts: Arc<dyn LoginAttempts>,
        clock: Arc<dyn Clock>,
        policy: AuthPolicy,
    ) -> Self {
        Self {
            accounts,
            hasher,
            access_tokens,
            refresh_tokens,
            attempts,
            clock,
            policy,
        }
    }

    /// Checks the password and opens a new session (a new refresh-token family).
    pub async fn login(&self, input: LoginInput) -> DomainResult<TokenPair> {
        let now = self.clock.now();
        let login = validation::normalise_login(&input.login);
        let login_key = format!("login:{login}");
        let address_key = input.client_address.as_ref().map(|a| format!("addr:{a}"));

        self.ensure_not_throttled(&login_key, self.policy.max_failures_per_login, now)
            .await?;
        if let Some(key) = &address_key {
            self.ensure_not_throttled(key, self.policy.max_failures_per_address, now)
                .await?;
        }

        let account = self.accounts.find_by_login(&login).await?;
        let stored_hash = account.as_ref().map(|a| a.password_hash.clone());
        let password_ok = self.hasher.verify(&input.password, stored_hash).await?;
        let account = match account {
            Some(account) if password_ok => account,
            _ => {
                self.attempts.record_failure(&login_key, now).await;
                if let Some(key) = &address_key {
                    self.attempts.record_failure(key, now).await;
                }
                return Err(DomainError::Unauthenticated(INVALID_CREDENTIALS.into()));
            }
        };
        // The password was right, so saying why the account is refused reveals nothing.
        if let Some(reason) = account.access_refusal() {
            return Err(DomainError::Forbidden(reason.into()));
        }
        self.attempts.clear(&login_key).await;
        self.accounts.touch_last_activity(account.id, now).await?;
        self.issue_pair(&account, Uuid::now_v7(), now).await
    }

    /// Exchanges a refresh token for a new pair. The old token is spent; presenting a spent
    /// token again revokes its whole family (the session was stolen or leaked).
    pub async fn refresh(&self, refresh_token: &str) -> DomainResult<TokenPair> {
        let now = self.clock.now();
        match self.refresh_tokens.spend(refresh_token, now).await? {
            RefreshOutcome::Fresh { account_id, family } => {
                let account = self
                    .accounts
                    .find_by_id(account_id)
                    .await?
                    .ok_or_else(|| DomainError::Unauthenticated(INVALID_REFRESH.into()))?;
                if let Some(reason) = account.access_refusal() {
                    self.refresh_tokens.revoke_family(family, now).await?;
                    return Err(DomainError::Unauthenticated(reason.into()));
                }
                self.issue_pair(&account, family, now).await
            }
            RefreshOutcome::Replayed { family, .. } => {
                self.refresh_tokens.revoke_family(family, now).await?;
                Err(DomainError::Unauthenticated(
                    "the refresh token was already used; the session has been revoked".into(),
                ))
            }
            RefreshOutcome::Invalid => Err(DomainError::Unauthenticated(INVALID_REFRESH.into())),
        }
    }

    /// Ends the session the refresh token belongs to. Idempotent: an unknown or already
    /// revoked token is not an error, the session is over either way.
    pub async fn logout(&self, refresh_token: &str) -> DomainResult<()> {
        let now = self.clock.now();
        match self.refresh_tokens.spend(refresh_token, now).await? {
            RefreshOutcome::Fresh { family, .. } | RefreshOutcome::Replayed { family, .. } => {
                self.refresh_tokens.revoke_family(family, now).await
            }
            RefreshOutcome::Invalid => Ok(()),
        }
    }

    /// Resolves an access token to the acting account, re-reading the account so that a
    /// block or deactivation takes effect on the very next request.
    pub async fn authenticate(&self, access_token: &str) -> DomainResult<(Actor, Account)> {
        let claims = self
            .access_tokens
            .verify(access_token, self.clock.now())
            .map_err(|_| DomainError::Unauthenticated(INVALID_TOKEN.into()))?;
        let account = self
            .accounts
            .find_by_id(claims.account_id)
            .await?
            .ok_or_else(|| DomainError::Unauthenticated(INVALID_TOKEN.into()))?;
        if let Some(reason) = account.access_refusal() {
            return Err(DomainError::Unauthenticated(reason.into()));
        }
        Ok((account.actor(), account))
    }

    async fn ensure_not_throttled(
        &self,
        key: &str,
        max_failures: u32,
        now: OffsetDateTime,
    ) -> DomainResult<()> {
        let window = self
            .attempts
            .failures_since(key, now - self.policy.failure_window)
            .await;
        if window.count < max_failures {
            return Ok(());
        }
        let frees_at = window.oldest.unwrap_or(now) + self.policy.failure_window;
        let retry_after_secs = (frees_at - now).whole_seconds().max(1) as u64;
        Err(DomainError::RateLimited { retry_after_secs })
    }

    async fn issue_pair(
        &self,
        account: &Account,
        family: Uuid,
        now: OffsetDateTime,
    ) -> DomainResult<TokenPair> {
        let access_token = self.access_tokens.issue(&AccessClaims {
            account_id: account.id,
            issued_at: now,
            expires_at: now + self.policy.access_token_ttl,
        })?;
        let refresh_token = self
            .refresh_tokens
            .issue(account.id, family, now, now + self.policy.refresh_token_ttl)
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
    use dialix_kernel::{AccountId, MockClock, Role};
    use mockall::predicate::eq;
    use time::macros::datetime;

    use super::*;
    use crate::ports::{
        FailureWindow, MockAccessTokens, MockAccountRepository, MockLoginAttempts,
        MockPasswordHasher, MockRefreshTokens,
    };

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    fn account(is_blocked: bool) -> Account {
        Account {
            id: AccountId::generate(),
            email: "op@dialix.uz".into(),
            username: "op".into(),
            password_hash: "$argon2id$stored".into(),
            role: Role::User,
            company_id: None,
            is_active: true,
            is_blocked,
            last_activity: None,
            preferred_language: "uz".into(),
            created_at: NOW,
            updated_at: NOW,
        }
    }

    struct Mocks {
        accounts: MockAccountRepository,
        hasher: MockPasswordHasher,
        access: MockAccessTokens,
        refresh: MockRefreshTokens,
        attempts: MockLoginAttempts,
    }

    impl Mocks {
        fn new() -> Self {
            Self {
                accounts: MockAccountRepository::new(),
                hasher: MockPasswordHasher::new(),
                access: MockAccessTokens::new(),
                refresh: MockRefreshTokens::new(),
                attempts: MockLoginAttempts::new(),
            }
        }

        fn service(self) -> AuthService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            AuthService::new(
                Arc::new(self.accounts),
                Arc::new(self.hasher),
                Arc::new(self.access),
                Arc::new(self.refresh),
                Arc::new(self.attempts),
                Arc::new(clock),
                AuthPolicy::default(),
            )
        }

        fn no_recent_failures(&mut self) {
            self.attempts
                .expect_failures_since()
                .returning(|_, _| FailureWindow::default());
        }
    }

    fn login(login: &str, password: &str) -> LoginInput {
        LoginInput {
            login: login.into(),
            password: password.into(),
            client_address: Some("10.0.0.1".into()),
        }
    }

    #[tokio::test]
    async fn a_correct_password_opens_a_session() {
        let stored = account(false);
        let id = stored.id;
        let mut mocks = Mocks::new();
        mocks.no_recent_failures();
        mocks
            .accounts
            .expect_find_by_login()
            .with(eq("op@dialix.uz"))
            .returning(move |_| Ok(Some(stored.clone())));
        mocks
            .hasher
            .expect_verify()
            .with(eq("secret-pass"), eq(Some("$argon2id$stored".to_owned())))
            .returning(|_, _| Ok(true));
        mocks
            .attempts
            .expect_clear()
            .with(eq("login:op@dialix.uz"))
            .return_const(());
        mocks
            .accounts
            .expect_touch_last_activity()
            .with(eq(id), eq(NOW))
            .returning(|_, _| Ok(()));
        mocks
            .access
            .expect_issue()
            .withf(move |c| c.account_id == id && c.expires_at == NOW + Duration::minutes(15))
            .returning(|_| Ok("access".into()));
        mocks
            .refresh
            .expect_issue()
            .withf(move |a, _, _, exp| *a == id && *exp == NOW + Duration::days(30))
            .returning(|_, _, _, _| Ok("refresh".into()));

        let pair = mocks
            .service()
            .login(login("  OP@Dialix.uz ", "secret-pass"))
            .await
            .unwrap();
        assert_eq!(pair.access_token, "access");
        assert_eq!(pair.refresh_token, "refresh");
        assert_eq!(pair.access_expires_in, Duration::minutes(15));
    }

    #[tokio::test]
    async fn unknown_login_and_wrong_password_fail_alike_and_count_as_failures() {
        for known in [true, false] {
            let mut mocks = Mocks::new();
            mocks.no_recent_failures();
            mocks
                .accounts
                .expect_find_by_login()
                .returning(move |_| Ok(known.then(|| account(false))));
            mocks
                .hasher
                .expect_verify()
                .withf(move |_, hash| hash.is_some() == known)
                .returning(|_, _| Ok(false));
            mocks
                .attempts
                .expect_record_failure()
                .with(eq("login:op@dialix.uz"), eq(NOW))
                .times(1)
                .return_const(());
            mocks
                .attempts
                .expect_record_failure()
                .with(eq("addr:10.0.0.1"), eq(NOW))
                .times(1)
                .return_const(());

            let error = mocks
                .service()
                .login(login("op@dialix.uz", "wrong"))
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
            .expect_find_by_login()
            .returning(|_| Ok(Some(account(true))));
        mocks.hasher.expect_verify().returning(|_, _| Ok(true));
        mocks.access.expect_issue().never();

        let error = mocks
            .service()
            .login(login("op", "secret-pass"))
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
            .returning(|_, _| FailureWindow {
                count: 5,
                oldest: Some(NOW - Duration::minutes(10)),
            });
        mocks.accounts.expect_find_by_login().never();
        mocks.hasher.expect_verify().never();

        let error = mocks
            .service()
            .login(login("op", "guess"))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            DomainError::RateLimited {
                retry_after_secs: 300
            }
        );
    }

    #[tokio::test]
    async fn replaying_a_spent_refresh_token_revokes_the_session() {
        let family = Uuid::now_v7();
        let mut mocks = Mocks::new();
        mocks.refresh.expect_spend().returning(move |_, _| {
            Ok(RefreshOutcome::Replayed {
                account_id: AccountId::generate(),
                family,
            })
        });
        mocks
            .refresh
            .expect_revoke_family()
            .with(eq(family), eq(NOW))
            .times(1)
            .returning(|_, _| Ok(()));
        mocks.refresh.expect_issue().never();

        let error = mocks.service().refresh("old").await.unwrap_err();
        assert!(matches!(error, DomainError::Unauthenticated(_)));
    }

    #[tokio::test]
    async fn a_fresh_refresh_token_rotates_within_its_family() {
        let stored = account(false);
        let id = stored.id;
        let family = Uuid::now_v7();
        let mut mocks = Mocks::new();
        mocks.refresh.expect_spend().returning(move |_, _| {
            Ok(RefreshOutcome::Fresh {
                account_id: id,
                family,
            })
        });
        mocks
            .accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks.access.expect_issue().returning(|_| Ok("a2".into()));
        mocks
            .refresh
            .expect_issue()
            .withf(move |_, f, _, _| *f == family)
            .returning(|_, _, _, _| Ok("r2".into()));

        let pair = mocks.service().refresh("r1").await.unwrap();
        assert_eq!(pair.refresh_token, "r2");
    }

    #[tokio::test]
    async fn a_valid_token_of_a_blocked_account_is_refused() {
        let stored = account(true);
        let id = stored.id;
        let mut mocks = Mocks::new();
        mocks.access.expect_verify().returning(move |_, _| {
            Ok(AccessClaims {
                account_id: id,
                issued_at: NOW,
                expires_at: NOW + Duration::minutes(15),
            })
        });
        mocks
            .accounts
            .expect_find_by_id()
            .returning(move |_| Ok(Some(stored.clone())));

        let error = mocks.service().authenticate("token").await.unwrap_err();
        assert_eq!(
            error,
            DomainError::Unauthenticated("this account is blocked".into())
        );
    }
}
