//! A company's connections to its PBX (OnlinePBX) and CRM (Bitrix24), and the automatic
//! import's settings. Secrets go in and never come out: responses show them masked.

use actix_web::{HttpResponse, delete, get, post, put, web};
use dialix_integrations::{AutoImport, AutoImportSettings, IntegrationKind, StoredIntegration};
use dialix_kernel::{ChecklistId, CompanyId};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Meta, Problem, QueryValues};
use crate::state::AppState;

/// The services a company connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationKindName {
    Pbx,
    Bitrix,
}

/// A company's connection; the secret is never returned, only its last four characters.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IntegrationResponse {
    kind: IntegrationKindName,
    company_id: Uuid,
    /// The PBX's domain, or the Bitrix24 portal's host.
    label: String,
    /// The API key or webhook, masked: `••••` and its last four characters.
    secret_hint: String,
    /// Who saved the credentials last.
    updated_by: Uuid,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<StoredIntegration> for IntegrationResponse {
    fn from(stored: StoredIntegration) -> Self {
        Self {
            kind: match stored.kind {
                IntegrationKind::Pbx => IntegrationKindName::Pbx,
                IntegrationKind::Bitrix => IntegrationKindName::Bitrix,
            },
            company_id: stored.company_id.as_uuid(),
            label: stored.label,
            secret_hint: stored.secret_hint,
            updated_by: stored.updated_by.as_uuid(),
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }
}

/// `PUT /integrations/pbx`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PbxCredentials {
    /// The PBX's domain, as in `https://api.onlinepbx.ru/{domain}`.
    #[schema(example = "mycompany.onpbx.ru", min_length = 4, max_length = 253)]
    domain: String,
    /// The API key from the PBX's settings (checked against `auth.json` before saving).
    #[schema(min_length = 8, max_length = 256)]
    api_key: String,
    /// Default: the caller's company.
    company_id: Option<Uuid>,
}

/// `PUT /integrations/bitrix`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BitrixCredentials {
    /// The portal's inbound webhook with CRM access (checked with one read before saving).
    #[schema(
        example = "https://mycompany.bitrix24.kz/rest/1/abc123def456/",
        max_length = 512
    )]
    webhook_url: String,
    /// Default: the caller's company.
    company_id: Option<Uuid>,
}

/// The company a request is about.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompanyQuery {
    /// Default: the caller's company.
    #[param(value_type = Option<Uuid>)]
    company_id: Option<String>,
}

impl CompanyQuery {
    pub fn parse(&self) -> Result<Option<CompanyId>, ApiError> {
        let mut values = QueryValues::default();
        let company = values
            .uuid("company_id", self.company_id.as_deref())
            .map(CompanyId::from_uuid);
        values.finish()?;
        Ok(company)
    }
}

/// Connect the company's OnlinePBX (or replace its credentials): platform admins, or
/// administrators with `can_manage_integrations`. The key is checked with the PBX once;
/// it is stored encrypted and audited as changed, never shown again.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    request_body = PbxCredentials,
    responses(
        (status = 200, description = "Connected", body = IntegrationResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or the PBX refused the key (its answer is in the message)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The PBX could not be reached; nothing was saved", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/integrations/pbx")]
pub async fn connect_pbx(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<PbxCredentials>,
) -> Result<web::Json<IntegrationResponse>, ApiError> {
    let body = body.into_inner();
    let stored = state
        .connections
        .connect_pbx(
            &caller.actor,
            body.company_id.map(CompanyId::from_uuid),
            &body.domain,
            SecretString::from(body.api_key),
            &meta,
        )
        .await?;
    Ok(web::Json(stored.into()))
}

/// Connect the company's Bitrix24 (or replace its webhook), as for the PBX.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    request_body = BitrixCredentials,
    responses(
        (status = 200, description = "Connected", body = IntegrationResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid URL, or the portal refused the webhook (its answer is in the message)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The portal could not be reached; nothing was saved", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/integrations/bitrix")]
pub async fn connect_bitrix(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<BitrixCredentials>,
) -> Result<web::Json<IntegrationResponse>, ApiError> {
    let body = body.into_inner();
    let stored = state
        .connections
        .connect_bitrix(
            &caller.actor,
            body.company_id.map(CompanyId::from_uuid),
            SecretString::from(body.webhook_url),
            &meta,
        )
        .await?;
    Ok(web::Json(stored.into()))
}

/// The company's OnlinePBX connection, key masked.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(CompanyQuery),
    responses(
        (status = 200, description = "The connection", body = IntegrationResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not connected, or company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/pbx")]
pub async fn get_pbx(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<CompanyQuery>,
) -> Result<web::Json<IntegrationResponse>, ApiError> {
    connection(&state, &caller, &query, IntegrationKind::Pbx).await
}

/// The company's Bitrix24 connection, webhook masked.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(CompanyQuery),
    responses(
        (status = 200, description = "The connection", body = IntegrationResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not connected, or company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/bitrix")]
pub async fn get_bitrix(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<CompanyQuery>,
) -> Result<web::Json<IntegrationResponse>, ApiError> {
    connection(&state, &caller, &query, IntegrationKind::Bitrix).await
}

async fn connection(
    state: &AppState,
    caller: &Authenticated,
    query: &CompanyQuery,
    kind: IntegrationKind,
) -> Result<web::Json<IntegrationResponse>, ApiError> {
    let stored = state
        .connections
        .connection(&caller.actor, query.parse()?, kind)
        .await?;
    Ok(web::Json(stored.into()))
}

/// Disconnect the company's OnlinePBX; its automatic import goes with it. Imported records
/// stay.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(CompanyQuery),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not connected, or company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/integrations/pbx")]
pub async fn disconnect_pbx(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    query: web::Query<CompanyQuery>,
) -> Result<HttpResponse, ApiError> {
    disconnect(&state, &meta, &caller, &query, IntegrationKind::Pbx).await
}

/// Disconnect the company's Bitrix24. Lookups already stored on records stay.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(CompanyQuery),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not connected, or company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/integrations/bitrix")]
pub async fn disconnect_bitrix(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    query: web::Query<CompanyQuery>,
) -> Result<HttpResponse, ApiError> {
    disconnect(&state, &meta, &caller, &query, IntegrationKind::Bitrix).await
}

async fn disconnect(
    state: &AppState,
    meta: &Meta,
    caller: &Authenticated,
    query: &CompanyQuery,
    kind: IntegrationKind,
) -> Result<HttpResponse, ApiError> {
    state
        .connections
        .disconnect(&caller.actor, query.parse()?, kind, meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What the last automatic run did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ImportRunResponse {
    #[serde(with = "crate::http::timestamp::option")]
    at: Option<OffsetDateTime>,
    /// Records created and queued.
    imported: u32,
    /// Calls imported before (by hand or by an earlier run).
    already_imported: u32,
    /// Calls with less talk time than the minimum.
    skipped_short: u32,
    /// Calls left for a later run because the balance does not cover them.
    waiting_for_balance: u32,
    /// Why the run did not import everything, if it did not.
    error: Option<String>,
}

/// A company's automatic import.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AutoImportResponse {
    company_id: Uuid,
    enabled: bool,
    /// Minutes between two runs.
    interval_minutes: u32,
    /// Calls with less talk time are skipped.
    min_talk_seconds: u32,
    /// Whether imported calls get the general analysis.
    general: bool,
    /// Imported calls are scored with it (else with their operator's checklist, if any).
    checklist_id: Option<Uuid>,
    /// Whose records imported calls become (who saved the settings last).
    owner_id: Uuid,
    /// Calls that started before this are never imported automatically.
    #[serde(with = "crate::http::timestamp")]
    import_from: OffsetDateTime,
    /// Every call that started before this has been considered.
    #[serde(with = "crate::http::timestamp")]
    imported_until: OffsetDateTime,
    /// When the next run is due.
    #[serde(with = "crate::http::timestamp")]
    next_run_at: OffsetDateTime,
    last_run: Option<ImportRunResponse>,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<AutoImport> for AutoImportResponse {
    fn from(a: AutoImport) -> Self {
        Self {
            company_id: a.company_id.as_uuid(),
            enabled: a.settings.enabled,
            interval_minutes: a.settings.interval_minutes,
            min_talk_seconds: a.settings.min_talk_seconds,
            general: a.settings.general,
            checklist_id: a.settings.checklist_id.map(|c| c.as_uuid()),
            owner_id: a.owner_id.as_uuid(),
            import_from: a.import_from,
            imported_until: a.imported_until,
            next_run_at: a.next_run_at,
            last_run: a.last_run.map(|r| ImportRunResponse {
                at: r.at,
                imported: r.imported,
                already_imported: r.already_imported,
                skipped_short: r.skipped_short,
                waiting_for_balance: r.waiting_for_balance,
                error: r.error,
            }),
            updated_at: a.updated_at,
        }
    }
}

/// `PUT /integrations/pbx/auto-import`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoImportRequest {
    enabled: bool,
    /// Default 15.
    #[schema(minimum = 1, maximum = 1440)]
    interval_minutes: Option<u32>,
    /// Default 10.
    #[schema(minimum = 0, maximum = 3600)]
    min_talk_seconds: Option<u32>,
    /// Default true.
    general: Option<bool>,
    /// A checklist of the company; default none (each operator's own).
    checklist_id: Option<Uuid>,
    /// Default: the caller's company.
    company_id: Option<Uuid>,
}

/// The company's automatic import.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(CompanyQuery),
    responses(
        (status = 200, description = "Its settings and where it stands", body = AutoImportResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Never set up, or company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/pbx/auto-import")]
pub async fn get_auto_import(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<CompanyQuery>,
) -> Result<web::Json<AutoImportResponse>, ApiError> {
    let auto = state
        .imports
        .auto_import(&caller.actor, query.parse()?)
        .await?;
    Ok(web::Json(auto.into()))
}

/// Set up the automatic import: the workers import the PBX's new calls every
/// `interval_minutes`, from the moment it is first switched on, each call once. Saving makes
/// a run due at once; the saver becomes the owner of the records it creates.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    request_body = AutoImportRequest,
    responses(
        (status = 200, description = "Saved", body = AutoImportResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company has not connected its OnlinePBX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/integrations/pbx/auto-import")]
pub async fn set_auto_import(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<AutoImportRequest>,
) -> Result<web::Json<AutoImportResponse>, ApiError> {
    let body = body.into_inner();
    let settings = AutoImportSettings {
        enabled: body.enabled,
        interval_minutes: body.interval_minutes.unwrap_or(15),
        min_talk_seconds: body
            .min_talk_seconds
            .unwrap_or(dialix_integrations::DEFAULT_MIN_TALK_SECONDS),
        general: body.general.unwrap_or(true),
        checklist_id: body.checklist_id.map(ChecklistId::from_uuid),
    };
    let auto = state
        .imports
        .set_auto_import(
            &caller.actor,
            body.company_id.map(CompanyId::from_uuid),
            settings,
            &meta,
        )
        .await?;
    Ok(web::Json(auto.into()))
}

/// Make the next automatic run due now; a process with workers takes it at its next look
/// (`AUTO_IMPORT_POLL_SECS`, 30 s by default).
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(CompanyQuery),
    responses(
        (status = 202, description = "Due now", body = AutoImportResponse),
        (status = 403, description = "No can_manage_integrations permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Never set up, or company outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The automatic import is switched off", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integrations/pbx/auto-import/run")]
pub async fn run_auto_import(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<CompanyQuery>,
) -> Result<HttpResponse, ApiError> {
    let auto = state
        .imports
        .run_auto_import_now(&caller.actor, query.parse()?)
        .await?;
    Ok(HttpResponse::Accepted().json(AutoImportResponse::from(auto)))
}
