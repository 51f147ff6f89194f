//! Accounts: who may log in, how, and with which role. Owns login, token refresh and logout,
//! per-request authentication (a blocked account is refused at once, not at token expiry),
//! and platform-admin account creation.
//!
//! The crate is pure domain: storage, hashing and token signing are ports implemented in
//! `dialix-infrastructure`.

mod auth;
mod model;
mod ports;
mod service;
mod validation;

pub use auth::{AuthPolicy, AuthPorts, AuthService, LoginInput, TokenPair};
pub use model::{Account, NewAccount};
pub use ports::{
    AccessClaims, AccessTokens, AccountRepository, CompanyDirectory, FailureWindow, LoginAttempts,
    PasswordHasher, RefreshTokenState, RefreshTokens,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{
    MockAccessTokens, MockAccountRepository, MockCompanyDirectory, MockLoginAttempts,
    MockPasswordHasher, MockRefreshTokens,
};
pub use service::{AccountPorts, AccountService, PasswordPolicy};

/// The resource type of accounts in the activity log.
pub const RESOURCE_ACCOUNT: &str = "account";
