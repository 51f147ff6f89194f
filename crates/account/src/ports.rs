use async_trait::async_trait;
use dialix_kernel::{AccountId, CompanyGrant, DomainResult, Page, PageRequest, Tx};
use secrecy::SecretString;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Account, AccountFilter, AccountSummary, UserSettings};

/// Account storage. Writes take the caller's transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Stores a new account with its password hash. A clash on email or username that
    /// slipped past the service's checks (a concurrent insert) is reported as
    /// `DomainError::Conflict`.
    async fn insert(
        &self,
        tx: &mut Tx,
        account: &Account,
        password_hash: &SecretString,
    ) -> DomainResult<()>;
    /// Writes every mutable field (not `last_activity`, not the password) if the row is still
    /// at `account.row_version`, and advances the version; `Stale` if it changed meanwhile. A
    /// clash on email or username is a `Conflict`.
    async fn update(&self, tx: &mut Tx, account: &mut Account) -> DomainResult<()>;
    /// Replaces the password hash (and `updated_at`), on the same terms as `update`.
    async fn set_password(
        &self,
        tx: &mut Tx,
        account: &mut Account,
        password_hash: &SecretString,
    ) -> DomainResult<()>;
    /// The account whose email or username equals `login`, with its password hash: only
    /// logins and password changes read the hash.
    async fn find_with_password(
        &self,
        login: &str,
    ) -> DomainResult<Option<(Account, SecretString)>>;
    /// The account's current password hash.
    async fn password_of(&self, id: AccountId) -> DomainResult<Option<SecretString>>;
    async fn list(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> DomainResult<Page<AccountSummary>>;
    async fn find_by_id(&self, id: AccountId) -> DomainResult<Option<Account>>;
    /// Finds the account whose email or username equals `login` (already lower-cased).
    async fn find_by_login(&self, login: &str) -> DomainResult<Option<Account>>;
    /// Stamps `last_activity`.
    async fn touch_last_activity(
        &self,
        tx: &mut Tx,
        id: AccountId,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
    /// The companies this account administers, with its permissions in each.
    async fn grants(&self, id: AccountId) -> DomainResult<Vec<CompanyGrant>>;
    /// What authenticating a request needs, read in one statement (every authenticated
    /// request pays for it): the account, whether `session` is still open, and the account's
    /// grants. `None` if no account has this id.
    async fn find_for_session(
        &self,
        id: AccountId,
        session: Uuid,
    ) -> DomainResult<Option<SessionAccount>>;
}

/// An access token's account as the request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAccount {
    pub account: Account,
    /// Whether the token's session (refresh-token family) is still open: some token of it is
    /// not revoked. It ends with a logout, a detected replay, a password change or reset, a
    /// block or a deletion.
    pub session_live: bool,
    /// The companies the account administers, with its permissions in each.
    pub grants: Vec<CompanyGrant>,
}

/// Password hashing (argon2id in production).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &str) -> DomainResult<SecretString>;
    /// Checks `password` against `hash`. With `None` (no such account) it still spends the
    /// time of a real check and answers `false`, so timing does not reveal which logins exist.
    async fn verify(&self, password: &str, hash: Option<SecretString>) -> DomainResult<bool>;
}

/// The verified content of an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    pub account_id: AccountId,
    /// The session (refresh-token family) it was issued for; the token is refused once the
    /// session has ended.
    pub session: Uuid,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Short-lived, signed, stateless access tokens.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait AccessTokens: Send + Sync {
    fn issue(&self, claims: &AccessClaims) -> DomainResult<String>;
    /// Checks signature and expiry against `now`; any failure is `Unauthenticated`.
    fn verify(&self, token: &str, now: OffsetDateTime) -> DomainResult<AccessClaims>;
}

/// A stored refresh token, found by its plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenState {
    pub id: Uuid,
    pub account_id: AccountId,
    pub family: Uuid,
    pub expires_at: OffsetDateTime,
    /// Spent by a refresh (presenting it again is a replay).
    pub spent: bool,
    /// Its session ended: logout, a detected replay, a password change or reset, a block or
    /// a deletion.
    pub revoked: bool,
}

/// Opaque, rotating refresh tokens. Only a hash of each token is stored; tokens issued from
/// one login form a family, revoked together when a spent token is replayed.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RefreshTokens: Send + Sync {
    /// Creates and stores a token of `family`, returning its plaintext (shown once).
    async fn issue(
        &self,
        tx: &mut Tx,
        account_id: AccountId,
        family: Uuid,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> DomainResult<String>;
    async fn find(&self, token: &str) -> DomainResult<Option<RefreshTokenState>>;
    /// Marks the token spent if it is still live; `false` if someone else got there first.
    async fn spend(&self, tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> DomainResult<bool>;
    async fn revoke_family(
        &self,
        tx: &mut Tx,
        family: Uuid,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
    /// Ends every session of the account.
    async fn revoke_all(
        &self,
        tx: &mut Tx,
        account: AccountId,
        at: OffsetDateTime,
    ) -> DomainResult<()>;
}

/// Failed login attempts seen for one key (an account login or a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureWindow {
    pub count: u32,
    pub oldest: Option<OffsetDateTime>,
}

/// A counter of failed logins per key, used to rate limit guessing; shared by every process
/// of the installation, so that N processes allow the failures one would.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    async fn failures_since(&self, key: &str, since: OffsetDateTime)
    -> DomainResult<FailureWindow>;
    async fn record_failure(&self, key: &str, at: OffsetDateTime) -> DomainResult<()>;
    async fn clear(&self, key: &str) -> DomainResult<()>;
}

/// Settings storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SettingsRepository: Send + Sync {
    async fn find(&self, user: AccountId) -> DomainResult<Option<UserSettings>>;
    /// Stores first-read defaults; returns `false` if a concurrent request stored them first.
    async fn insert(&self, tx: &mut Tx, settings: &UserSettings) -> DomainResult<bool>;
    /// Writes the settings if they are still at `settings.row_version` (else `Stale`), and
    /// advances the version.
    async fn update(&self, tx: &mut Tx, settings: &mut UserSettings) -> DomainResult<()>;
}
