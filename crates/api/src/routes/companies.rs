use actix_web::{HttpRequest, HttpResponse, post, web};
use dialix_company::{Company, NewCompany};
use dialix_kernel::CompanyId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Problem, request_meta};
use crate::state::AppState;

/// A company (tenant).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CompanyResponse {
    id: Uuid,
    name: String,
    description: Option<String>,
    is_active: bool,
    parent_company_id: Option<Uuid>,
    /// 0 for a top-level company, parent's level + 1 below it.
    hierarchy_level: i32,
    /// Minor units (1/100 so'm).
    balance: i64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<Company> for CompanyResponse {
    fn from(company: Company) -> Self {
        Self {
            id: company.id.as_uuid(),
            name: company.name,
            description: company.description,
            is_active: company.is_active,
            parent_company_id: company.parent_company_id.map(|p| p.as_uuid()),
            hierarchy_level: company.hierarchy_level,
            balance: company.balance,
            created_at: company.created_at,
            updated_at: company.updated_at,
        }
    }
}

/// A new company. Names are unique regardless of case.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompanyRequest {
    #[schema(example = "Acme Call Center")]
    name: String,
    description: Option<String>,
    /// Makes the new company a sub-company of this one.
    parent_company_id: Option<Uuid>,
}

/// Create a company (platform admins only).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    request_body = CreateCompanyRequest,
    responses(
        (status = 201, description = "Created", body = CompanyResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown parent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/company")]
pub async fn create_company(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Authenticated,
    body: web::Json<CreateCompanyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let company = state
        .companies
        .create(
            &caller.actor,
            NewCompany {
                name: body.name,
                description: body.description,
                parent_company_id: body.parent_company_id.map(CompanyId::from_uuid),
            },
            &request_meta(&req),
        )
        .await?;
    Ok(HttpResponse::Created().json(CompanyResponse::from(company)))
}
