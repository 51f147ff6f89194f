//! The composition root: every adapter is built once here and handed to the services.

use std::sync::Arc;

use dialix_account::{AccountService, AuthPolicy, AuthService, PasswordPolicy};
use dialix_company::CompanyService;
use dialix_infrastructure::{
    Argon2PasswordHasher, Database, InMemoryLoginAttempts, JwtAccessTokens, SeaOrmAccounts,
    SeaOrmCompanies, SeaOrmRefreshTokens,
};
use dialix_kernel::{Clock, DomainResult, SystemClock};

use crate::config::Config;

/// The services the handlers call, shared by every HTTP worker.
pub struct AppState {
    pub auth: AuthService,
    pub accounts: AccountService,
    pub companies: CompanyService,
    pub database: Database,
}

impl AppState {
    pub async fn build(
        config: &Config,
        jwt_secret: &str,
        database: Database,
    ) -> DomainResult<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let accounts = Arc::new(SeaOrmAccounts::new(database.clone()));
        let hasher = Arc::new(Argon2PasswordHasher::new().await?);
        let auth = AuthService::new(
            accounts.clone(),
            hasher.clone(),
            Arc::new(JwtAccessTokens::new(jwt_secret.as_bytes())),
            Arc::new(SeaOrmRefreshTokens::new(database.clone())),
            Arc::new(InMemoryLoginAttempts::default()),
            clock.clone(),
            AuthPolicy {
                access_token_ttl: config.access_token_ttl,
                refresh_token_ttl: config.refresh_token_ttl,
                max_failures_per_login: config.login_max_failures,
                max_failures_per_address: config.login_max_failures_per_address,
                failure_window: config.login_failure_window,
            },
        );
        let account_service = AccountService::new(
            accounts.clone(),
            accounts,
            hasher,
            clock.clone(),
            PasswordPolicy {
                min_length: config.password_min_length,
            },
        );
        let companies =
            CompanyService::new(Arc::new(SeaOrmCompanies::new(database.clone())), clock);
        Ok(Self {
            auth,
            accounts: account_service,
            companies,
            database,
        })
    }
}
