use actix_web::{HttpResponse, delete, get, patch, post, web};
use dialix_company::{Administrator, parse_permissions};
use dialix_kernel::{AccountId, CompanyId, Permission};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Meta, Problem};
use crate::state::AppState;

/// Every permission of a company administrator with whether it is granted (the names of
/// `kernel::Permission`; a unit test keeps the two in step).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PermissionFlags {
    can_manage_users: bool,
    can_view_records: bool,
    can_view_activity_logs: bool,
    can_manage_settings: bool,
    can_topup: bool,
    can_manage_integrations: bool,
}

impl From<&BTreeSet<Permission>> for PermissionFlags {
    fn from(granted: &BTreeSet<Permission>) -> Self {
        let has = |permission| granted.contains(&permission);
        Self {
            can_manage_users: has(Permission::CanManageUsers),
            can_view_records: has(Permission::CanViewRecords),
            can_view_activity_logs: has(Permission::CanViewActivityLogs),
            can_manage_settings: has(Permission::CanManageSettings),
            can_topup: has(Permission::CanTopup),
            can_manage_integrations: has(Permission::CanManageIntegrations),
        }
    }
}

/// Permissions to grant: each name to `true` or `false`; absent ones are not granted, other
/// names are refused. (Documentation of the request shape: the body is read as JSON so that
/// every bad name is reported at once.)
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PermissionGrant {
    can_manage_users: Option<bool>,
    can_view_records: Option<bool>,
    can_view_activity_logs: Option<bool>,
    can_manage_settings: Option<bool>,
    can_topup: Option<bool>,
    can_manage_integrations: Option<bool>,
}

/// A company administrator.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AdministratorResponse {
    company_id: Uuid,
    user_id: Uuid,
    /// Every permission with whether it is granted.
    permissions: PermissionFlags,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
}

impl From<Administrator> for AdministratorResponse {
    fn from(admin: Administrator) -> Self {
        Self {
            company_id: admin.company_id.as_uuid(),
            user_id: admin.user_id.as_uuid(),
            permissions: PermissionFlags::from(&admin.permissions),
            created_at: admin.created_at,
        }
    }
}

/// A new administrator.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddAdministratorRequest {
    /// A member of the company or of one of its sub-companies.
    user_id: Uuid,
    /// Permission names to `true`/`false`; absent ones are not granted, unknown ones refused.
    #[schema(value_type = PermissionGrant, example = json!({"can_manage_users": true, "can_view_activity_logs": true}))]
    permissions: serde_json::Value,
}

/// New permissions (they replace the old ones).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAdministratorRequest {
    #[schema(value_type = PermissionGrant, example = json!({"can_topup": true}))]
    permissions: serde_json::Value,
}

/// Make a member a company administrator (platform admins). Administrators act, within the
/// company and its sub-companies only, exactly as their permissions grant.
#[utoipa::path(
    tag = "company administrators",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    request_body = AddAdministratorRequest,
    responses(
        (status = 201, description = "Granted", body = AdministratorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown permission or a user outside the company", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/company/{id}/administrators")]
pub async fn add_administrator(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    body: web::Json<AddAdministratorRequest>,
) -> Result<HttpResponse, ApiError> {
    let permissions = parse_permissions(&body.permissions)?;
    let admin = state
        .companies
        .add_administrator(
            &caller.actor,
            path.into_inner(),
            AccountId::from_uuid(body.user_id),
            permissions,
            &meta,
        )
        .await?;
    Ok(HttpResponse::Created().json(AdministratorResponse::from(admin)))
}

/// The company's administrators: platform admins and the company's administrators.
#[utoipa::path(
    tag = "company administrators",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    responses(
        (status = 200, description = "Administrators", body = Vec<AdministratorResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator of the company", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/company/{id}/administrators")]
pub async fn list_administrators(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<CompanyId>,
) -> Result<web::Json<Vec<AdministratorResponse>>, ApiError> {
    let admins = state
        .companies
        .administrators(&caller.actor, path.into_inner())
        .await?;
    Ok(web::Json(admins.into_iter().map(Into::into).collect()))
}

/// One administrator of the company.
#[utoipa::path(
    tag = "company administrators",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The company"),
        ("user_id" = Uuid, Path, description = "The administrator's account"),
    ),
    responses(
        (status = 200, description = "The administrator", body = AdministratorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator of the company", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company or administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/company/{id}/administrators/{user_id}")]
pub async fn get_administrator(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(CompanyId, AccountId)>,
) -> Result<web::Json<AdministratorResponse>, ApiError> {
    let (company, user) = path.into_inner();
    let admin = state
        .companies
        .administrator(&caller.actor, company, user)
        .await?;
    Ok(web::Json(admin.into()))
}

/// Replace an administrator's permissions (platform admins); audited with old and new.
#[utoipa::path(
    tag = "company administrators",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The company"),
        ("user_id" = Uuid, Path, description = "The administrator's account"),
    ),
    request_body = UpdateAdministratorRequest,
    responses(
        (status = 200, description = "Updated", body = AdministratorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company or administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown permission", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/company/{id}/administrators/{user_id}")]
pub async fn update_administrator(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<(CompanyId, AccountId)>,
    body: web::Json<UpdateAdministratorRequest>,
) -> Result<web::Json<AdministratorResponse>, ApiError> {
    let (company, user) = path.into_inner();
    let permissions = parse_permissions(&body.permissions)?;
    let admin = state
        .companies
        .update_administrator(&caller.actor, company, user, permissions, &meta)
        .await?;
    Ok(web::Json(admin.into()))
}

/// Revoke administration (platform admins); the account itself stays.
#[utoipa::path(
    tag = "company administrators",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The company"),
        ("user_id" = Uuid, Path, description = "The administrator's account"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company or administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/company/{id}/administrators/{user_id}")]
pub async fn remove_administrator(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<(CompanyId, AccountId)>,
) -> Result<HttpResponse, ApiError> {
    let (company, user) = path.into_inner();
    state
        .companies
        .remove_administrator(&caller.actor, company, user, &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented names are the permissions' own, for every permission.
    #[test]
    fn permission_flags_name_every_permission() {
        let all: BTreeSet<Permission> = Permission::ALL.into_iter().collect();
        let flags = serde_json::to_value(PermissionFlags::from(&all)).unwrap();
        let names: BTreeSet<&str> = flags
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, expected);
        assert!(flags.as_object().unwrap().values().all(|v| v == true));
    }
}
