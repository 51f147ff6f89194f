use actix_web::{HttpResponse, delete, get, patch, post, web};
use dialix_account::{AccountChanges, AccountFilter, AccountSortField, AccountSummary};
use dialix_kernel::{AccountId, CompanyId, PageRequest, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::accounts::{AccountResponse, RoleDto};
use super::activity_logs::ActivityLogEntry;
use super::companies::TransactionResponse;
use super::pages::PageOf;
use crate::http::{ApiError, Authenticated, Meta, Problem, QueryValues, present};
use crate::state::AppState;

/// How many activity-log entries and transactions `GET /admin/user/{id}` includes.
const HISTORY_LIMIT: u64 = 100;

/// Filters, sorting and paging of `GET /admin/users`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Case-insensitive part of the username, email or company name.
    search: Option<String>,
    #[param(value_type = Option<RoleDto>)]
    role: Option<String>,
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
    /// `true` or `false`.
    #[param(value_type = Option<bool>)]
    is_active: Option<String>,
    /// `true` or `false`.
    #[param(value_type = Option<bool>)]
    is_blocked: Option<String>,
    /// `created_at` (default), `email`, `username` or `last_activity`; prefix `-` for
    /// descending (default `-created_at`).
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
}

impl UserListQuery {
    /// Checks every value at once, so a caller sees all mistakes in one 422.
    fn parse(&self) -> Result<(AccountFilter, PageRequest), ApiError> {
        let mut values = QueryValues::default();
        let role = self.role.as_deref().and_then(|raw| {
            let role = Role::parse(raw.trim());
            if role.is_none() {
                values.errors.add("role", "must be admin or user");
            }
            role
        });
        let company_id = values.uuid("company_id", self.company_id.as_deref());
        let is_active = values.boolean("is_active", self.is_active.as_deref());
        let is_blocked = values.boolean("is_blocked", self.is_blocked.as_deref());
        let sort_text = self.sort.as_deref().unwrap_or("-created_at").trim();
        let (descending, field) = match sort_text.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, sort_text),
        };
        let sort = match field {
            "created_at" => AccountSortField::CreatedAt,
            "email" => AccountSortField::Email,
            "username" => AccountSortField::Username,
            "last_activity" => AccountSortField::LastActivity,
            _ => {
                values.errors.add(
                    "sort",
                    "must be created_at, email, username or last_activity, optionally prefixed by -",
                );
                AccountSortField::CreatedAt
            }
        };
        let page = values.page(self.limit.as_deref(), self.offset.as_deref());
        values.finish()?;
        let filter = AccountFilter {
            search: self.search.clone().filter(|s| !s.trim().is_empty()),
            role,
            company_id: company_id.map(CompanyId::from_uuid),
            is_active,
            is_blocked,
            within: None,
            sort,
            descending,
        };
        Ok((filter, page))
    }
}

/// An account in a listing, with its company's name.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserListItem {
    #[serde(flatten)]
    account: AccountResponse,
    company_name: Option<String>,
}

impl From<AccountSummary> for UserListItem {
    fn from(summary: AccountSummary) -> Self {
        Self {
            account: summary.account.into(),
            company_name: summary.company_name,
        }
    }
}

/// List accounts: platform admins all; administrators with `can_manage_users` those of
/// their companies and sub-companies.
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "Accounts", body = PageOf<UserListItem>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_users permission anywhere", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters, sorting or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<UserListQuery>,
) -> Result<web::Json<PageOf<UserListItem>>, ApiError> {
    let (filter, page) = query.parse()?;
    let page = state.accounts.list(&caller.actor, filter, page).await?;
    Ok(web::Json(PageOf::from_page(page, UserListItem::from)))
}

/// An account with its recent history.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserDetails {
    user: AccountResponse,
    /// The user's latest 100 activity-log entries, newest first.
    activity: Vec<ActivityLogEntry>,
    /// The latest 100 ledger entries the user caused, newest first.
    transactions: Vec<TransactionResponse>,
}

/// One account with its latest activity and transactions. The read is audited (`VIEW`).
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "The account", body = UserDetails),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or not managed by the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/user/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<AccountId>,
) -> Result<web::Json<UserDetails>, ApiError> {
    let id = path.into_inner();
    let account = state.accounts.get(&caller.actor, id, &meta).await?;
    let activity = state.audit.recent_by_user(id, HISTORY_LIMIT).await?;
    let transactions = state
        .companies
        .transactions_by_user(id, HISTORY_LIMIT)
        .await?;
    Ok(web::Json(UserDetails {
        user: account.into(),
        activity: activity.into_iter().map(Into::into).collect(),
        transactions: transactions.into_iter().map(Into::into).collect(),
    }))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(format = Email, max_length = 254)]
    email: Option<String>,
    #[schema(
        min_length = 3,
        max_length = 50,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    username: Option<String>,
    /// Only platform admins grant `admin`; nobody changes their own role.
    role: Option<RoleDto>,
    /// `null` removes the user from any company (platform admins only). Moving users this
    /// way writes no membership history: use `POST /company/{id}/transfer-user` for that.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    company_id: Option<Option<Uuid>>,
    is_active: Option<bool>,
}

/// Change an account; audited with old and new values.
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated account", body = AccountResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed (own role or company, admin role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or not managed by the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email or username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/user/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<AccountId>,
    body: web::Json<UpdateUserRequest>,
) -> Result<web::Json<AccountResponse>, ApiError> {
    let body = body.into_inner();
    let account = state
        .accounts
        .update(
            &caller.actor,
            path.into_inner(),
            AccountChanges {
                email: body.email,
                username: body.username,
                role: body.role.map(Into::into),
                company_id: body.company_id.map(|c| c.map(CompanyId::from_uuid)),
                is_active: body.is_active,
            },
            &meta,
        )
        .await?;
    Ok(web::Json(account.into()))
}

/// Soft-delete an account: it is deactivated and marked deleted, its sessions end at once,
/// its data stays.
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Deleting yourself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, already deleted, or not managed by the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/user/{id}")]
pub async fn delete_user(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    state
        .accounts
        .delete(&caller.actor, path.into_inner(), &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Set a new password for an account; all its sessions end.
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Reset"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or not managed by the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Password too short or too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/user/{id}/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<AccountId>,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .accounts
        .reset_password(&caller.actor, path.into_inner(), &body.new_password, &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Block an account: its current tokens stop working on the next request and its sessions
/// end.
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "Blocked", body = AccountResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Blocking yourself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or not managed by the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already blocked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/user/{id}/block")]
pub async fn block_user(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<AccountId>,
) -> Result<web::Json<AccountResponse>, ApiError> {
    set_blocked(state, meta, caller, path.into_inner(), true).await
}

/// Unblock an account.
#[utoipa::path(
    tag = "admin: users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "Unblocked", body = AccountResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Unblocking yourself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or not managed by the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not blocked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/user/{id}/unblock")]
pub async fn unblock_user(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<AccountId>,
) -> Result<web::Json<AccountResponse>, ApiError> {
    set_blocked(state, meta, caller, path.into_inner(), false).await
}

async fn set_blocked(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    id: AccountId,
    blocked: bool,
) -> Result<web::Json<AccountResponse>, ApiError> {
    let account = state
        .accounts
        .set_blocked(&caller.actor, id, blocked, &meta)
        .await?;
    Ok(web::Json(account.into()))
}
