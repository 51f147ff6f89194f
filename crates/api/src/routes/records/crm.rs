//! Looking a record's client up in the company's CRM again.

use actix_web::{post, web};
use dialix_kernel::RecordId;

use super::RecordResponse;
use crate::http::{ApiError, Authenticated, Meta, Problem};
use crate::state::AppState;

/// Ask the company's Bitrix24 again who the call's client is (after a failed lookup, or
/// when the CRM changed); the result is stored on the record, which is returned.
#[utoipa::path(
    tag = "records",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The record")),
    responses(
        (status = 200, description = "The record with its new `crm`", body = RecordResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record has no client number, or the company has not connected Bitrix24", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/records/{id}/crm/refresh")]
pub async fn refresh_crm(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<RecordId>,
) -> Result<web::Json<RecordResponse>, ApiError> {
    let record = state
        .crm
        .refresh(&caller.actor, path.into_inner(), &meta)
        .await?;
    Ok(web::Json(record.into()))
}
