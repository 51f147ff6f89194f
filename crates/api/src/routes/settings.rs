use actix_web::{get, patch, web};
use dialix_account::{SettingsChanges, UserSettings};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::http::{ApiError, Authenticated, Meta, Problem, present};
use crate::state::AppState;

/// The caller's settings.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SettingsResponse {
    email_notifications: bool,
    sms_notifications: bool,
    push_notifications: bool,
    /// `uz`, `ru` or `en`.
    language: String,
    /// An IANA time-zone name.
    #[schema(example = "Asia/Tashkent")]
    timezone: String,
    /// Days after which the user's records are deleted; `null` keeps them forever.
    auto_delete_records_after_days: Option<i32>,
    /// One of the configured speech-to-text models (`STT_MODELS`).
    preferred_stt_model: String,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl From<UserSettings> for SettingsResponse {
    fn from(settings: UserSettings) -> Self {
        Self {
            email_notifications: settings.email_notifications,
            sms_notifications: settings.sms_notifications,
            push_notifications: settings.push_notifications,
            language: settings.language,
            timezone: settings.timezone,
            auto_delete_records_after_days: settings.auto_delete_records_after_days,
            preferred_stt_model: settings.preferred_stt_model,
            created_at: settings.created_at,
            updated_at: settings.updated_at,
        }
    }
}

/// The languages the product speaks.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Uz,
    Ru,
    En,
}

/// Settings to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettingsRequest {
    email_notifications: Option<bool>,
    sms_notifications: Option<bool>,
    push_notifications: Option<bool>,
    #[schema(value_type = Option<Language>)]
    language: Option<String>,
    /// An IANA time-zone name.
    #[schema(example = "Asia/Tashkent")]
    timezone: Option<String>,
    /// `null` keeps records forever.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 3650)]
    auto_delete_records_after_days: Option<Option<i32>>,
    preferred_stt_model: Option<String>,
}

/// The caller's settings; created with the defaults on first read (notifications: email on,
/// SMS off, push on; `uz`; `Asia/Tashkent`; records kept 90 days; the first STT model).
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SettingsResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
) -> Result<web::Json<SettingsResponse>, ApiError> {
    let settings = state.settings.get(&caller.actor, &meta).await?;
    Ok(web::Json(settings.into()))
}

/// Change some settings; every field is validated and the change audited with old and new
/// values.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    request_body = UpdateSettingsRequest,
    responses(
        (status = 200, description = "The updated settings", body = SettingsResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, named per field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/settings")]
pub async fn update_settings(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<UpdateSettingsRequest>,
) -> Result<web::Json<SettingsResponse>, ApiError> {
    let body = body.into_inner();
    let settings = state
        .settings
        .update(
            &caller.actor,
            SettingsChanges {
                email_notifications: body.email_notifications,
                sms_notifications: body.sms_notifications,
                push_notifications: body.push_notifications,
                language: body.language,
                timezone: body.timezone,
                auto_delete_records_after_days: body.auto_delete_records_after_days,
                preferred_stt_model: body.preferred_stt_model,
            },
            &meta,
        )
        .await?;
    Ok(web::Json(settings.into()))
}
