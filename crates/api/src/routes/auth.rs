use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, patch, post, web};
use dialix_account::{LoginInput, TokenPair};
use dialix_kernel::DomainError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::AccountResponse;
use super::settings::Language;
use crate::http::{ApiError, Authenticated, Meta, Problem};
use crate::state::AppState;

/// Credentials: an email or a username, and the password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin@dialix.local")]
    email: Option<String>,
    /// Accepted instead of `email`.
    username: Option<String>,
    #[schema(example = "change-me-now")]
    password: String,
}

/// A refresh token, as returned by login or refresh.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// A new session's tokens.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    expires_in: i64,
    /// Exchange at `POST /auth/refresh` for a new pair; single use.
    refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            token_type: "bearer".into(),
            expires_in: pair.access_expires_in.whole_seconds(),
            refresh_token: pair.refresh_token,
        }
    }
}

/// Log in with an email (or username) and password.
///
/// Wrong credentials get the same 401 whether or not the account exists. Repeated failures
/// for one login or one client address are refused with 429 and `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong login or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is blocked or deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: Meta,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let login = body
        .email
        .or(body.username)
        .filter(|login| !login.trim().is_empty())
        .ok_or_else(|| {
            ApiError::validation(BTreeMap::from([(
                "email".to_owned(),
                "give an email or a username".to_owned(),
            )]))
        })?;
    let pair = state
        .auth
        .login(
            LoginInput {
                login,
                password: body.password,
            },
            &meta,
        )
        .await
        .inspect_err(|error| {
            if matches!(
                error,
                DomainError::Unauthenticated(_) | DomainError::RateLimited { .. }
            ) {
                state.metrics.login_failed();
            }
        })?;
    Ok(web::Json(pair.into()))
}

/// Exchange a refresh token for a new pair. The old token is spent; presenting it again
/// revokes the whole session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    meta: Meta,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let pair = state.auth.refresh(&body.refresh_token, &meta).await?;
    Ok(web::Json(pair.into()))
}

/// End the session the refresh token belongs to. Idempotent.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session is over"),
        (status = 422, description = "Missing fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    meta: Meta,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.auth.logout(&body.refresh_token, &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = AccountResponse),
        (status = 401, description = "Missing, invalid or expired token, or a blocked account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/me")]
pub async fn me(caller: Authenticated) -> web::Json<AccountResponse> {
    web::Json(caller.account.into())
}

/// Changes to one's own account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[schema(
        min_length = 3,
        max_length = 50,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    username: Option<String>,
    #[schema(value_type = Option<Language>)]
    preferred_language: Option<String>,
}

/// Change one's own username or language; audited.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account", body = AccountResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/auth/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<UpdateMeRequest>,
) -> Result<web::Json<AccountResponse>, ApiError> {
    let body = body.into_inner();
    let account = state
        .accounts
        .update_me(&caller.actor, body.username, body.preferred_language, &meta)
        .await?;
    Ok(web::Json(account.into()))
}

/// The current and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    current_password: String,
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Change one's own password. Every session (refresh token) ends; log in again.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password, or new password too short", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/change-password")]
pub async fn change_password(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .accounts
        .change_password(
            &caller.actor,
            &body.current_password,
            &body.new_password,
            &meta,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
