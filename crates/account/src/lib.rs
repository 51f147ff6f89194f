//! Accounts: who may log in, how, and with which role. Owns login, token refresh and logout,
//! per-request authentication (a blocked account is refused at once, not at token expiry),
//! and platform-admin account creation.
//!
//! The crate is pure domain: storage, hashing and token signing are ports implemented in
//! `dialix-infrastructure`.

mod auth;
mod management;
mod model;
mod ports;
mod service;
mod settings;
mod validation;

pub use auth::{AuthPolicy, AuthPorts, AuthService, LoginInput, TokenPair};
pub use management::LANGUAGES;
pub use model::{
    Account, AccountChanges, AccountFilter, AccountSortField, AccountSummary, NewAccount,
};
pub use ports::{
    AccessClaims, AccessTokens, AccountRepository, FailureWindow, LoginAttempts, PasswordHasher,
    RefreshTokenState, RefreshTokens, SessionAccount, SettingsRepository,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{
    MockAccessTokens, MockAccountRepository, MockLoginAttempts, MockPasswordHasher,
    MockRefreshTokens, MockSettingsRepository,
};
pub use service::{AccountPorts, AccountService, PasswordPolicy};
pub use settings::{
    DEFAULT_TIMEZONE, SettingsChanges, SettingsPorts, SettingsService, UserSettings,
};
