use actix_web::{HttpResponse, post, web};
use dialix_account::{Account, NewAccount};
use dialix_kernel::{CompanyId, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Meta, Problem};
use crate::state::AppState;

/// A platform-wide role.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    /// Platform administrator.
    Admin,
    /// Company member.
    User,
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => RoleDto::Admin,
            Role::User => RoleDto::User,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::Admin => Role::Admin,
            RoleDto::User => Role::User,
        }
    }
}

/// An account as the API shows it (never with its password hash).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AccountResponse {
    id: Uuid,
    email: String,
    username: String,
    role: RoleDto,
    company_id: Option<Uuid>,
    is_active: bool,
    is_blocked: bool,
    preferred_language: String,
    #[serde(with = "crate::http::timestamp::option")]
    last_activity: Option<OffsetDateTime>,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<Account> for AccountResponse {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.as_uuid(),
            email: account.email,
            username: account.username,
            role: account.role.into(),
            company_id: account.company_id.map(|c| c.as_uuid()),
            is_active: account.is_active,
            is_blocked: account.is_blocked,
            preferred_language: account.preferred_language,
            last_activity: account.last_activity,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

/// A new account. Emails and usernames are stored lower-cased and are unique.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    #[schema(example = "operator@acme.uz", format = Email, max_length = 254)]
    email: String,
    /// Letters, digits, `.`, `_`, `-`, starting with a letter or digit.
    #[schema(
        example = "operator1",
        min_length = 3,
        max_length = 50,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    username: String,
    /// At least `PASSWORD_MIN_LENGTH` (default 8) characters.
    #[schema(example = "a long passphrase", min_length = 8, max_length = 256)]
    password: String,
    #[serde(default = "default_role")]
    #[schema(default = "user")]
    role: RoleDto,
    company_id: Option<Uuid>,
}

fn default_role() -> RoleDto {
    RoleDto::User
}

/// Create an account (platform admins only).
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    request_body = CreateAccountRequest,
    responses(
        (status = 201, description = "Created", body = AccountResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email or username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/users")]
pub async fn create_account(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<CreateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = state
        .accounts
        .create(
            &caller.actor,
            NewAccount {
                email: body.email,
                username: body.username,
                password: body.password,
                role: body.role.into(),
                company_id: body.company_id.map(CompanyId::from_uuid),
            },
            &meta,
        )
        .await?;
    Ok(HttpResponse::Created().json(AccountResponse::from(account)))
}
