use std::collections::BTreeMap;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use dialix_audit::{
    AuditAction, AuditCursor, AuditEntry, AuditFilterInput, AuditQuery, VerificationReport,
};
use dialix_kernel::{CompanyId, DomainError, FieldErrors, PageRequest, ResourceType};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{ApiError, Authenticated, Problem, csv_response, push_csv_field};
use crate::state::AppState;

/// Filters, paging and format of an activity-log listing.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Page size, 1–200 (default 50). Ignored for CSV, which returns every match.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Entries to skip (default 0). Ignored for CSV.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    start_date: Option<String>,
    /// Only entries at or before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    end_date: Option<String>,
    /// Only this action.
    #[param(value_type = Option<ActivityAction>)]
    action: Option<String>,
    /// Only entries about this kind of resource.
    #[param(value_type = Option<ActivityResource>)]
    resource_type: Option<String>,
    /// Only entries by this user (company and resource listings; the caller's own listing is
    /// always the caller's).
    #[param(value_type = Option<Uuid>)]
    user_id: Option<String>,
    /// `json` (default) or `csv` (streamed, every matching row).
    format: Option<String>,
}

enum Format {
    Json(PageRequest),
    Csv,
}

impl LogQuery {
    /// Checks everything at once, so a caller sees all mistakes in one 422.
    fn parse(&self) -> Result<(AuditFilterInput, Format), ApiError> {
        let mut errors = FieldErrors::new();
        let page = PageRequest::parse(self.limit.as_deref(), self.offset.as_deref(), &mut errors);
        let csv = match self.format.as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(_) => {
                errors.add("format", "must be json or csv");
                false
            }
        };
        let input = AuditFilterInput {
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            action: self.action.clone(),
            resource_type: self.resource_type.clone(),
            user_id: self.user_id.clone(),
        };
        if let Err(dialix_kernel::DomainError::Validation(filter_errors)) = input.parse() {
            for (field, message) in filter_errors.iter() {
                errors.add(field, message);
            }
        }
        errors.into_result()?;
        let format = if csv {
            Format::Csv
        } else {
            Format::Json(page.unwrap_or_default())
        };
        Ok((input, format))
    }
}

/// What an activity-log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityAction {
    Create,
    Update,
    Delete,
    View,
    Login,
    LoginFailed,
    Logout,
    TokenRefresh,
    TokenReuse,
    Block,
    Unblock,
    Transfer,
    Topup,
    PasswordReset,
    Purge,
}

impl From<AuditAction> for ActivityAction {
    fn from(action: AuditAction) -> Self {
        match action {
            AuditAction::Create => Self::Create,
            AuditAction::Update => Self::Update,
            AuditAction::Delete => Self::Delete,
            AuditAction::View => Self::View,
            AuditAction::Login => Self::Login,
            AuditAction::LoginFailed => Self::LoginFailed,
            AuditAction::Logout => Self::Logout,
            AuditAction::TokenRefresh => Self::TokenRefresh,
            AuditAction::TokenReuse => Self::TokenReuse,
            AuditAction::Block => Self::Block,
            AuditAction::Unblock => Self::Unblock,
            AuditAction::Transfer => Self::Transfer,
            AuditAction::Topup => Self::Topup,
            AuditAction::PasswordReset => Self::PasswordReset,
            AuditAction::Purge => Self::Purge,
        }
    }
}

/// The kinds of things the activity log records (mirrors `kernel::ResourceType`, whose
/// exhaustive `From` below keeps the two in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityResource {
    Account,
    Company,
    CompanyAdministrator,
    UserSettings,
    Record,
    Operator,
    Checklist,
    ChatSession,
    /// A company's PBX and CRM connections; the id is the company's.
    Integration,
    ActivityLog,
}

impl From<ResourceType> for ActivityResource {
    fn from(resource: ResourceType) -> Self {
        match resource {
            ResourceType::Account => Self::Account,
            ResourceType::Company => Self::Company,
            ResourceType::Administrator => Self::CompanyAdministrator,
            ResourceType::Settings => Self::UserSettings,
            ResourceType::Record => Self::Record,
            ResourceType::Operator => Self::Operator,
            ResourceType::Checklist => Self::Checklist,
            ResourceType::ChatSession => Self::ChatSession,
            ResourceType::Integration => Self::Integration,
            ResourceType::ActivityLog => Self::ActivityLog,
        }
    }
}

/// What an entry says about its event (documentation of the shape: entries keep their
/// details as written). Updates carry `changes`; other events add members of their own
/// (`reason` of a failed login, `blocked_accounts` of a company block, …).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ActivityDetails {
    /// Each changed field, before and after.
    changes: Option<BTreeMap<String, FieldChange>>,
}

/// One changed field: its old and new value (any JSON), or `{"changed": true}` for secrets.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FieldChange {
    old_value: Option<serde_json::Value>,
    new_value: Option<serde_json::Value>,
    /// Set instead of the values when the field is a secret.
    changed: Option<bool>,
}

/// One activity-log entry.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ActivityLogEntry {
    id: Uuid,
    /// Who acted (absent for anonymous events such as a login with an unknown email).
    user_id: Option<Uuid>,
    /// The actor's company at the time.
    company_id: Option<Uuid>,
    action: ActivityAction,
    /// What the entry is about (entries written before a type existed keep their text).
    #[schema(value_type = ActivityResource)]
    resource_type: String,
    resource_id: Option<String>,
    /// Event details. Secrets never appear, only the fact that they changed.
    #[schema(value_type = ActivityDetails)]
    details: serde_json::Value,
    ip_address: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    /// This entry's link in its company's hash chain (SHA-256, hex).
    hash: String,
}

impl From<AuditEntry> for ActivityLogEntry {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            user_id: entry.user_id.map(|u| u.as_uuid()),
            company_id: entry.company_id.map(|c| c.as_uuid()),
            action: entry.action.into(),
            resource_type: entry.resource_type,
            resource_id: entry.resource_id,
            details: entry.details,
            ip_address: entry.ip_address,
            user_agent: entry.user_agent,
            request_id: entry.request_id,
            created_at: entry.created_at,
            hash: entry.hash,
        }
    }
}

/// A page of entries, newest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ActivityLogPage {
    items: Vec<ActivityLogEntry>,
    /// All entries matching the filters.
    total: u64,
    limit: u64,
    offset: u64,
}

/// The caller's own activity.
#[utoipa::path(
    tag = "activity logs",
    security(("bearer" = [])),
    params(LogQuery),
    responses(
        (status = 200, description = "Entries, newest first (or CSV with format=csv)",
            content((ActivityLogPage = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/activity-logs")]
pub async fn own_logs(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let (input, format) = query.parse()?;
    let audit_query = state.audit.own(&caller.actor, &input)?;
    respond(state, audit_query, format).await
}

/// The audit trail of one resource. Platform admins see any; company administrators with
/// `can_view_activity_logs` those of their company; users their own. Otherwise 404.
#[utoipa::path(
    tag = "activity logs",
    security(("bearer" = [])),
    params(
        ("resource_type" = String, Path, description = "e.g. `account`, `company`"),
        ("resource_id" = String, Path, description = "The resource's id"),
        LogQuery,
    ),
    responses(
        (status = 200, description = "Entries, newest first (or CSV with format=csv)",
            content((ActivityLogPage = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resource, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/activity-logs/{resource_type}/{resource_id}")]
pub async fn resource_logs(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let (resource_type, resource_id) = path.into_inner();
    let resource_type = ResourceType::parse(&resource_type).ok_or_else(|| {
        ApiError::from(DomainError::NotFound("resource")).detail(format!(
            "no resource type {resource_type:?}; the types are {}",
            ResourceType::names()
        ))
    })?;
    let (input, format) = query.parse()?;
    let audit_query = state
        .audit
        .resource(&caller.actor, resource_type, &resource_id, &input)
        .await?;
    respond(state, audit_query, format).await
}

/// Every entry of a company's users: platform admins, or administrators of that company with
/// `can_view_activity_logs`.
#[utoipa::path(
    tag = "activity logs",
    security(("bearer" = [])),
    params(("company_id" = Uuid, Path, description = "The company"), LogQuery),
    responses(
        (status = 200, description = "Entries, newest first (or CSV with format=csv)",
            content((ActivityLogPage = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such company, or not administered by the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filters or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/company/{company_id}/activity-logs")]
pub async fn company_logs(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<CompanyId>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let (input, format) = query.parse()?;
    let company_id = path.into_inner();
    let audit_query = state
        .audit
        .company(&caller.actor, company_id, &input)
        .await?;
    respond(state, audit_query, format).await
}

/// The first place the chain does not hold together.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BrokenLinkResponse {
    /// The chain: a company id, or the nil UUID for platform-level events.
    chain_id: Uuid,
    seq: i64,
    /// The offending entry (absent when entries are missing at the end).
    entry_id: Option<Uuid>,
    reason: String,
}

/// The outcome of verifying every hash chain.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct VerificationResponse {
    valid: bool,
    chains_checked: u64,
    entries_checked: u64,
    first_broken: Option<BrokenLinkResponse>,
}

impl From<VerificationReport> for VerificationResponse {
    fn from(report: VerificationReport) -> Self {
        Self {
            valid: report.first_broken.is_none(),
            chains_checked: report.chains_checked,
            entries_checked: report.entries_checked,
            first_broken: report.first_broken.map(|b| BrokenLinkResponse {
                chain_id: b.chain_id,
                seq: b.seq,
                entry_id: b.entry_id,
                reason: b.reason,
            }),
        }
    }
}

/// Walk every hash chain of the activity log and report the first broken link (platform
/// admins only). An edited, inserted or deleted entry breaks its chain.
#[utoipa::path(
    tag = "activity logs",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The verification report", body = VerificationResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/activity-logs/verify")]
pub async fn verify_logs(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<web::Json<VerificationResponse>, ApiError> {
    Ok(web::Json(state.audit.verify(&caller.actor).await?.into()))
}

async fn respond(
    state: web::Data<AppState>,
    query: AuditQuery,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    match format {
        Format::Json(page) => {
            let page = state.audit.page(&query, page).await?;
            Ok(HttpResponse::Ok().json(ActivityLogPage {
                total: page.total,
                limit: page.limit,
                offset: page.offset,
                items: page.items.into_iter().map(Into::into).collect(),
            }))
        }
        Format::Csv => Ok(csv_stream(state, query)),
    }
}

const CSV_HEADER: &str = "id,created_at,user_id,company_id,action,resource_type,resource_id,\
ip_address,user_agent,request_id,details,hash\n";

/// Streams every matching entry as CSV, one database batch at a time, so an export of
/// millions of rows never sits in memory. Each batch is one chunk, the header going out with
/// the first, and a short batch is the last: an export of up to a batch is one query and one
/// write.
fn csv_stream(state: web::Data<AppState>, query: AuditQuery) -> HttpResponse {
    struct Progress {
        state: web::Data<AppState>,
        query: AuditQuery,
        after: Option<AuditCursor>,
        first: bool,
    }
    let start = Progress {
        state,
        query,
        after: None,
        first: true,
    };
    let chunks = futures_util::stream::unfold(Some(start), |progress| async move {
        let progress = progress?;
        match progress
            .state
            .audit
            .batch(&progress.query, progress.after)
            .await
        {
            Ok(batch) if batch.entries.is_empty() && !progress.first => None,
            Ok(batch) => {
                let mut chunk = String::with_capacity(512 * (batch.entries.len() + 1));
                if progress.first {
                    chunk.push_str(CSV_HEADER);
                }
                for entry in &batch.entries {
                    csv_row(&mut chunk, entry);
                }
                let rest = batch.next.map(|after| Progress {
                    after: Some(after),
                    first: false,
                    ..progress
                });
                Some((Ok(Bytes::from(chunk)), rest))
            }
            Err(error) => {
                tracing::error!(error = %error.chain(), "activity-log export stopped");
                Some((Err(actix_web::Error::from(ApiError::from(error))), None))
            }
        }
    });
    csv_response("activity-log.csv").streaming(chunks)
}

/// Appends one entry as a CSV line, writing each field straight into `out`.
fn csv_row(out: &mut String, entry: &AuditEntry) {
    let mut buffers = [Uuid::encode_buffer(); 3];
    let [id_buffer, user_buffer, company_buffer] = &mut buffers;
    let entry_id: &str = entry.id.hyphenated().encode_lower(id_buffer);
    let user_id: &str = match entry.user_id {
        Some(user) => user.as_uuid().hyphenated().encode_lower(user_buffer),
        None => "",
    };
    let company_id: &str = match entry.company_id {
        Some(company) => company.as_uuid().hyphenated().encode_lower(company_buffer),
        None => "",
    };
    let fields: [&str; 12] = [
        entry_id,
        &crate::http::timestamp::format(entry.created_at),
        user_id,
        company_id,
        entry.action.as_str(),
        &entry.resource_type,
        entry.resource_id.as_deref().unwrap_or_default(),
        entry.ip_address.as_deref().unwrap_or_default(),
        entry.user_agent.as_deref().unwrap_or_default(),
        entry.request_id.as_deref().unwrap_or_default(),
        &entry.details.to_string(),
        &entry.hash,
    ];
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, field);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::{ActivityResource, ResourceType};

    /// The documented names are the stored ones, for every resource type.
    #[test]
    fn the_documented_resource_names_are_the_stored_ones() {
        for resource in ResourceType::ALL {
            let documented = serde_json::to_value(ActivityResource::from(resource)).unwrap();
            assert_eq!(documented, resource.as_str());
        }
    }
}
