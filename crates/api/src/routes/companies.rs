use actix_web::{HttpResponse, get, patch, post, web};
use dialix_account::AccountFilter;
use dialix_company::{
    Company, CompanyChanges, CompanyFilter, CompanyStats, LedgerEntry, LedgerKind, NewCompany,
};
use dialix_kernel::{AccountId, CompanyId, PageRequest};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::accounts::AccountResponse;
use super::pages::{PageOf, PageQuery};
use crate::http::{ApiError, Authenticated, Meta, Problem, QueryValues, present};
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
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
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
    #[schema(example = "Acme Call Center", min_length = 1, max_length = 200)]
    name: String,
    #[schema(max_length = 2000)]
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
    meta: Meta,
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
            &meta,
        )
        .await?;
    Ok(HttpResponse::Created().json(CompanyResponse::from(company)))
}

/// Filters and paging of `GET /companies`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompanyListQuery {
    /// Case-insensitive part of the name.
    search: Option<String>,
    /// `true` or `false`.
    #[param(value_type = Option<bool>)]
    is_active: Option<String>,
    /// Only direct sub-companies of this company.
    #[param(value_type = Option<Uuid>)]
    parent_company_id: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
    /// The seed's name for `offset`.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    skip: Option<String>,
}

impl CompanyListQuery {
    /// Checks every value at once, so a caller sees all mistakes in one 422.
    fn parse(&self) -> Result<(CompanyFilter, PageRequest), ApiError> {
        let mut values = QueryValues::default();
        let is_active = values.boolean("is_active", self.is_active.as_deref());
        let parent = values.uuid("parent_company_id", self.parent_company_id.as_deref());
        let page = values.page(
            self.limit.as_deref(),
            self.offset.as_deref().or(self.skip.as_deref()),
        );
        values.finish()?;
        let filter = CompanyFilter {
            search: self.search.clone().filter(|s| !s.trim().is_empty()),
            is_active,
            parent_company_id: parent.map(CompanyId::from_uuid),
            within: None,
        };
        Ok((filter, page))
    }
}

/// List the companies the caller may see: all for platform admins, the administered
/// companies and their descendants for company administrators, otherwise one's own.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(CompanyListQuery),
    responses(
        (status = 200, description = "Companies by name", body = PageOf<CompanyResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/companies")]
pub async fn list_companies(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<CompanyListQuery>,
) -> Result<web::Json<PageOf<CompanyResponse>>, ApiError> {
    let (filter, page) = query.parse()?;
    let page = state.companies.list(&caller.actor, filter, page).await?;
    Ok(web::Json(PageOf::from_page(page, CompanyResponse::from)))
}

/// Figures of a company.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CompanyStatistics {
    users_active: u64,
    users_blocked: u64,
    /// Deactivated (not blocked) users.
    users_inactive: u64,
    sub_companies: u64,
    /// Minor units.
    balance: i64,
    /// All top-ups, minor units.
    total_topped_up: i64,
    /// All charges net of refunds, minor units.
    total_spent: i64,
    /// Calls whose processing is done.
    records_processed: u64,
    /// Minutes of audio of those calls.
    minutes_processed: f64,
}

/// A company's configuration: the keys the analysis reads, and any others the company keeps
/// (stored as given). Documentation of the shape: the server keeps the object as JSON.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CompanySettings {
    /// The language of summaries and reasons (default `uz`).
    #[schema(value_type = Option<super::settings::Language>)]
    language: Option<String>,
    /// What calls are about; the model picks one of these or `other`.
    call_purposes: Option<Vec<String>>,
}

/// A company with its figures.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CompanyDetails {
    #[serde(flatten)]
    company: CompanyResponse,
    /// Company configuration.
    #[schema(value_type = CompanySettings)]
    settings: serde_json::Value,
    statistics: CompanyStatistics,
}

fn details(company: Company, stats: CompanyStats) -> CompanyDetails {
    CompanyDetails {
        settings: company.settings.clone(),
        statistics: CompanyStatistics {
            users_active: stats.users_active,
            users_blocked: stats.users_blocked,
            users_inactive: stats.users_inactive,
            sub_companies: stats.sub_companies,
            balance: company.balance,
            total_topped_up: stats.total_topped_up,
            total_spent: stats.total_spent,
            records_processed: stats.records_processed,
            minutes_processed: dialix_reporting::minutes(stats.audio_ms_processed.unsigned_abs()),
        },
        company: company.into(),
    }
}

/// One company with its statistics. 404 unless the caller may see it.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    responses(
        (status = 200, description = "The company", body = CompanyDetails),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/company/{id}")]
pub async fn get_company(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<CompanyId>,
) -> Result<web::Json<CompanyDetails>, ApiError> {
    let id = path.into_inner();
    let (company, stats) = state.companies.get(&caller.actor, id).await?;
    Ok(web::Json(details(company, stats)))
}

/// Fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompanyRequest {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    description: Option<Option<String>>,
    /// Platform admins only.
    is_active: Option<bool>,
    /// Replaces the company configuration (at most 16 KiB of JSON).
    #[schema(value_type = Option<CompanySettings>)]
    settings: Option<serde_json::Value>,
}

/// Change a company: platform admins, or administrators with `can_manage_settings`
/// (`is_active` only platform admins). Changed fields are audited with old and new values.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    request_body = UpdateCompanyRequest,
    responses(
        (status = 200, description = "The updated company", body = CompanyResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/company/{id}")]
pub async fn update_company(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    body: web::Json<UpdateCompanyRequest>,
) -> Result<web::Json<CompanyResponse>, ApiError> {
    let body = body.into_inner();
    let company = state
        .companies
        .update(
            &caller.actor,
            path.into_inner(),
            CompanyChanges {
                name: body.name,
                description: body.description,
                is_active: body.is_active,
                settings: body.settings,
            },
            &meta,
        )
        .await?;
    Ok(web::Json(company.into()))
}

/// What a block or unblock did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockResult {
    /// Accounts blocked (or unblocked) by this call.
    accounts: u64,
}

/// Block a company: it is deactivated and every account in it and its sub-companies is
/// blocked, in one transaction; they are refused from their next request. Platform admins.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    responses(
        (status = 200, description = "Blocked", body = BlockResult),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already blocked or inactive", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/company/{id}/block")]
pub async fn block_company(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<CompanyId>,
) -> Result<web::Json<BlockResult>, ApiError> {
    let id = path.into_inner();
    let accounts = state.companies.block(&caller.actor, id, &meta).await?;
    Ok(web::Json(BlockResult { accounts }))
}

/// Unblock a company: it is reactivated and exactly the accounts its block blocked are
/// unblocked (accounts blocked for other reasons stay blocked). Platform admins.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    responses(
        (status = 200, description = "Unblocked", body = BlockResult),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not blocked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/company/{id}/unblock")]
pub async fn unblock_company(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<CompanyId>,
) -> Result<web::Json<BlockResult>, ApiError> {
    let id = path.into_inner();
    let accounts = state.companies.unblock(&caller.actor, id, &meta).await?;
    Ok(web::Json(BlockResult { accounts }))
}

/// A top-up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupRequest {
    /// Minor units (1/100 so'm).
    #[schema(example = 500000, minimum = 1, maximum = 1_000_000_000_000_i64)]
    amount: i64,
    /// Any unique string per intended top-up; retrying with the same key tops up once.
    #[schema(example = "invoice-2026-11-0042", min_length = 1, max_length = 128)]
    idempotency_key: String,
}

/// A ledger entry.
/// What moved money on a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    Topup,
    Charge,
    TransferIn,
    TransferOut,
    Refund,
}

impl From<LedgerKind> for TransactionKind {
    fn from(kind: LedgerKind) -> Self {
        match kind {
            LedgerKind::Topup => Self::Topup,
            LedgerKind::Charge => Self::Charge,
            LedgerKind::TransferIn => Self::TransferIn,
            LedgerKind::TransferOut => Self::TransferOut,
            LedgerKind::Refund => Self::Refund,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TransactionResponse {
    id: Uuid,
    company_id: Uuid,
    /// Who caused it.
    owner_id: Option<Uuid>,
    record_id: Option<Uuid>,
    kind: TransactionKind,
    /// Signed minor units: positive adds to the balance.
    amount: i64,
    balance_after: i64,
    idempotency_key: Option<String>,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
}

impl From<LedgerEntry> for TransactionResponse {
    fn from(entry: LedgerEntry) -> Self {
        Self {
            id: entry.id,
            company_id: entry.company_id.as_uuid(),
            owner_id: entry.owner_id.map(|o| o.as_uuid()),
            record_id: entry.record_id,
            kind: entry.kind.into(),
            amount: entry.amount,
            balance_after: entry.balance_after,
            idempotency_key: entry.idempotency_key,
            created_at: entry.created_at,
        }
    }
}

/// Top up a company's balance: platform admins, or administrators with `can_topup`. The
/// balance and the ledger entry change together; concurrent top-ups never lose an update.
/// Repeating a request with the same `idempotency_key` returns the first top-up (200).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company")),
    request_body = TopupRequest,
    responses(
        (status = 201, description = "Topped up", body = TransactionResponse),
        (status = 200, description = "Already done with this idempotency key", body = TransactionResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency key used with another amount", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid amount or key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/company/{id}/topup")]
pub async fn topup(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    body: web::Json<TopupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let result = state
        .companies
        .topup(
            &caller.actor,
            path.into_inner(),
            body.amount,
            body.idempotency_key,
            &meta,
        )
        .await?;
    let mut response = if result.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response.json(TransactionResponse::from(result.entry)))
}

/// The company's ledger, newest first: platform admins and the company's administrators.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company"), PageQuery),
    responses(
        (status = 200, description = "Ledger entries", body = PageOf<TransactionResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator of the company", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/company/{id}/transactions")]
pub async fn transactions(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<PageOf<TransactionResponse>>, ApiError> {
    let page = query.parse()?;
    let id = path.into_inner();
    let page = state.companies.ledger(&caller.actor, id, page).await?;
    Ok(web::Json(PageOf::from_page(
        page,
        TransactionResponse::from,
    )))
}

/// The company's users: platform admins and administrators with `can_manage_users`.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company"), PageQuery),
    responses(
        (status = 200, description = "Members, newest first", body = PageOf<AccountResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No can_manage_users permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/company/{id}/users")]
pub async fn company_users(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<PageOf<AccountResponse>>, ApiError> {
    let page = query.parse()?;
    let id = path.into_inner();
    state.companies.get(&caller.actor, id).await?;
    let filter = AccountFilter {
        company_id: Some(id),
        descending: true,
        ..Default::default()
    };
    let page = state.accounts.list(&caller.actor, filter, page).await?;
    Ok(web::Json(PageOf::from_page(page, |s| {
        AccountResponse::from(s.account)
    })))
}

/// Which user to move, and from where.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferUserRequest {
    user_id: Uuid,
    /// The company the user is in now; the move is refused if that is not so.
    from_company_id: Uuid,
}

/// The move that was made.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TransferResult {
    user_id: Uuid,
    from_company_id: Uuid,
    to_company_id: Uuid,
    /// Always 0: balances belong to companies and stay with them; nothing moves with a user.
    balance_moved: i64,
}

/// Move a user into this company. Writes `left`/`joined` membership history with each
/// company's balance at that moment, and an audit entry, atomically. Balances stay with the
/// companies. Platform admins, or administrators with `can_manage_users` over both companies.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The company to move the user into")),
    request_body = TransferUserRequest,
    responses(
        (status = 200, description = "Moved", body = TransferResult),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company or user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The user is not in from_company_id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/company/{id}/transfer-user")]
pub async fn transfer_user(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    body: web::Json<TransferUserRequest>,
) -> Result<web::Json<TransferResult>, ApiError> {
    let to = path.into_inner();
    state
        .companies
        .transfer_user(
            &caller.actor,
            to,
            AccountId::from_uuid(body.user_id),
            CompanyId::from_uuid(body.from_company_id),
            &meta,
        )
        .await?;
    Ok(web::Json(TransferResult {
        user_id: body.user_id,
        from_company_id: body.from_company_id,
        to_company_id: to.as_uuid(),
        balance_moved: 0,
    }))
}
