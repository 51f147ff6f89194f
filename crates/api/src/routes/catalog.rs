use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use dialix_calls::{Checklist, ItemInput, Operator, SegmentInput};
use dialix_kernel::{ChecklistId, CompanyId, OperatorId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pages::PageOf;
use super::pages::PageQuery;
use crate::http::{ApiError, Authenticated, Meta, Problem, present};
use crate::state::AppState;

/// An operator (call-center agent).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OperatorResponse {
    id: Uuid,
    company_id: Uuid,
    /// The PBX extension, unique in the company.
    code: String,
    name: String,
    is_active: bool,
    /// Their calls are scored with it when an upload names no checklist.
    checklist_id: Option<Uuid>,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<Operator> for OperatorResponse {
    fn from(o: Operator) -> Self {
        Self {
            id: o.id.as_uuid(),
            company_id: o.company_id.as_uuid(),
            code: o.code,
            name: o.name,
            is_active: o.is_active,
            checklist_id: o.checklist_id.map(|c| c.as_uuid()),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// A new operator.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOperatorRequest {
    #[schema(example = "101", min_length = 1, max_length = 32)]
    code: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// Defaults to the caller's company.
    company_id: Option<Uuid>,
}

/// Fields to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOperatorRequest {
    #[schema(min_length = 1, max_length = 32)]
    code: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    is_active: Option<bool>,
}

/// The checklist to score an operator's calls with.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignChecklistRequest {
    /// `null` clears the assignment.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    checklist_id: Option<Option<Uuid>>,
}

/// Create an operator: platform admins, or administrators with `can_manage_users`.
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    request_body = CreateOperatorRequest,
    responses(
        (status = 201, description = "Created", body = OperatorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_users permission", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken in the company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/operators")]
pub async fn create_operator(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<CreateOperatorRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let operator = state
        .catalog
        .create_operator(
            &caller.actor,
            body.company_id.map(CompanyId::from_uuid),
            body.code,
            body.name,
            &meta,
        )
        .await?;
    Ok(HttpResponse::Created().json(OperatorResponse::from(operator)))
}

/// Operators of the caller's company (and of the companies they administer).
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Operators by code", body = PageOf<OperatorResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/operators")]
pub async fn list_operators(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<web::Json<PageOf<OperatorResponse>>, ApiError> {
    let page = query.parse()?;
    let page = state.catalog.operators(&caller.actor, page).await?;
    Ok(web::Json(PageOf::from_page(page, OperatorResponse::from)))
}

/// One operator.
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The operator")),
    responses(
        (status = 200, description = "The operator", body = OperatorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operator in the caller's companies", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/operators/{id}")]
pub async fn get_operator(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<OperatorId>,
) -> Result<web::Json<OperatorResponse>, ApiError> {
    let operator = state
        .catalog
        .operator(&caller.actor, path.into_inner())
        .await?;
    Ok(web::Json(operator.into()))
}

/// Change an operator; audited with old and new values.
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The operator")),
    request_body = UpdateOperatorRequest,
    responses(
        (status = 200, description = "Updated", body = OperatorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_users permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operator in the caller's companies", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken in the company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/operators/{id}")]
pub async fn update_operator(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<OperatorId>,
    body: web::Json<UpdateOperatorRequest>,
) -> Result<web::Json<OperatorResponse>, ApiError> {
    let body = body.into_inner();
    let operator = state
        .catalog
        .update_operator(
            &caller.actor,
            path.into_inner(),
            body.code,
            body.name,
            body.is_active,
            &meta,
        )
        .await?;
    Ok(web::Json(operator.into()))
}

/// Delete an operator.
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The operator")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_users permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operator in the caller's companies", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/operators/{id}")]
pub async fn delete_operator(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<OperatorId>,
) -> Result<HttpResponse, ApiError> {
    state
        .catalog
        .delete_operator(&caller.actor, path.into_inner(), &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Assign the checklist an operator's calls are scored with (when an upload names none).
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The operator")),
    request_body = AssignChecklistRequest,
    responses(
        (status = 200, description = "Assigned", body = OperatorResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_users permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such operator in the caller's companies", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such checklist in the operator's company", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/operators/{id}/checklists")]
pub async fn assign_checklist(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<OperatorId>,
    body: web::Json<AssignChecklistRequest>,
) -> Result<web::Json<OperatorResponse>, ApiError> {
    let operator = state
        .catalog
        .assign_checklist(
            &caller.actor,
            path.into_inner(),
            body.checklist_id.flatten().map(ChecklistId::from_uuid),
            &meta,
        )
        .await?;
    Ok(web::Json(operator.into()))
}

/// A checklist item.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChecklistItemDto {
    /// `segment.item`, e.g. `1.2` (assigned by the server; ignored on input).
    #[serde(default)]
    id: String,
    #[schema(min_length = 1, max_length = 500)]
    text: String,
    /// Give every item a weight summing to 100, or none.
    #[schema(maximum = 100)]
    weight: Option<u32>,
    /// A failed critical item makes the call non-compliant whatever the score.
    #[serde(default)]
    critical: bool,
}

/// A group of items.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChecklistSegmentDto {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(min_items = 1)]
    items: Vec<ChecklistItemDto>,
}

/// A checklist version.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChecklistResponse {
    id: Uuid,
    company_id: Uuid,
    name: String,
    /// 1 for the first version; every edit adds one.
    version: u32,
    segments: Vec<ChecklistSegmentDto>,
    /// A scored call passes at this score or above, with no failed critical item (0: only
    /// critical items decide).
    #[schema(minimum = 0, maximum = 100)]
    pass_mark: u32,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    /// When this version was made.
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<Checklist> for ChecklistResponse {
    fn from(c: Checklist) -> Self {
        Self {
            id: c.id.as_uuid(),
            company_id: c.company_id.as_uuid(),
            name: c.name,
            version: c.version,
            pass_mark: c.pass_mark,
            segments: c
                .segments
                .into_iter()
                .map(|s| ChecklistSegmentDto {
                    title: s.title,
                    items: s
                        .items
                        .into_iter()
                        .map(|i| ChecklistItemDto {
                            id: i.id,
                            text: i.text,
                            weight: i.weight,
                            critical: i.critical,
                        })
                        .collect(),
                })
                .collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

fn segments(input: Vec<ChecklistSegmentDto>) -> Vec<SegmentInput> {
    input
        .into_iter()
        .map(|s| SegmentInput {
            title: s.title,
            items: s
                .items
                .into_iter()
                .map(|i| ItemInput {
                    text: i.text,
                    weight: i.weight,
                    critical: i.critical,
                })
                .collect(),
        })
        .collect()
}

/// A new checklist.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChecklistRequest {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(min_items = 1)]
    segments: Vec<ChecklistSegmentDto>,
    /// A scored call passes at this score or above, with no failed critical item (default 0:
    /// only critical items decide).
    #[schema(minimum = 0, maximum = 100)]
    pass_mark: Option<u32>,
    /// Defaults to the caller's company.
    company_id: Option<Uuid>,
}

/// Changes; any change makes a new version.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChecklistRequest {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(min_items = 1)]
    segments: Option<Vec<ChecklistSegmentDto>>,
    #[schema(minimum = 0, maximum = 100)]
    pass_mark: Option<u32>,
}

/// Create a checklist: platform admins, or administrators with `can_manage_settings`.
#[utoipa::path(
    tag = "checklists",
    security(("bearer" = [])),
    request_body = CreateChecklistRequest,
    responses(
        (status = 201, description = "Created (version 1)", body = ChecklistResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_settings permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items or weights", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/checklists")]
pub async fn create_checklist(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<CreateChecklistRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let checklist = state
        .catalog
        .create_checklist(
            &caller.actor,
            body.company_id.map(CompanyId::from_uuid),
            body.name,
            segments(body.segments),
            body.pass_mark,
            &meta,
        )
        .await?;
    Ok(HttpResponse::Created().json(ChecklistResponse::from(checklist)))
}

/// Checklists (current versions) of the caller's companies.
#[utoipa::path(
    tag = "checklists",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Checklists by name", body = PageOf<ChecklistResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/checklists")]
pub async fn list_checklists(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<web::Json<PageOf<ChecklistResponse>>, ApiError> {
    let page = query.parse()?;
    let page = state.catalog.checklists(&caller.actor, page).await?;
    Ok(web::Json(PageOf::from_page(page, ChecklistResponse::from)))
}

/// Which version to read.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// An earlier version (default: the current one).
    version: Option<u32>,
}

/// One checklist, current or an earlier version.
#[utoipa::path(
    tag = "checklists",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The checklist"), VersionQuery),
    responses(
        (status = 200, description = "The checklist", body = ChecklistResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such checklist or version in the caller's companies", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/checklists/{id}")]
pub async fn get_checklist(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<ChecklistId>,
    query: web::Query<VersionQuery>,
) -> Result<web::Json<ChecklistResponse>, ApiError> {
    let checklist = state
        .catalog
        .checklist(&caller.actor, path.into_inner(), query.version)
        .await?;
    Ok(web::Json(checklist.into()))
}

/// Edit a checklist: a new version is made; results keep the version they were scored with.
#[utoipa::path(
    tag = "checklists",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The checklist")),
    request_body = UpdateChecklistRequest,
    responses(
        (status = 200, description = "The new version", body = ChecklistResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_settings permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such checklist in the caller's companies", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items or weights", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/checklists/{id}")]
pub async fn update_checklist(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<ChecklistId>,
    body: web::Json<UpdateChecklistRequest>,
) -> Result<web::Json<ChecklistResponse>, ApiError> {
    let body = body.into_inner();
    let checklist = state
        .catalog
        .update_checklist(
            &caller.actor,
            path.into_inner(),
            body.name,
            body.segments.map(segments),
            body.pass_mark,
            &meta,
        )
        .await?;
    Ok(web::Json(checklist.into()))
}

/// Delete a checklist (soft: scored results keep their version; assignments are cleared).
#[utoipa::path(
    tag = "checklists",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The checklist")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_settings permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such checklist in the caller's companies", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/checklists/{id}")]
pub async fn delete_checklist(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<ChecklistId>,
) -> Result<HttpResponse, ApiError> {
    state
        .catalog
        .delete_checklist(&caller.actor, path.into_inner(), &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
