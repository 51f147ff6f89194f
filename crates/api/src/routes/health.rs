use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::{ApiError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` or `ready`.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The server is alive", body = HealthStatus))
)]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers. Load balancers should only route here when this is 200.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = HealthStatus),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.database.ping().await {
        Ok(HttpResponse::Ok().json(HealthStatus { status: "ready" }))
    } else {
        Err(ApiError::unavailable("the database does not answer"))
    }
}
