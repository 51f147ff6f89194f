//! Per-user settings, created with the product's defaults on first read.

use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork, Changes};
use dialix_kernel::{
    AccountId, Actor, Clock, DEFAULT_RETENTION_DAYS, DomainResult, FieldErrors, RequestMeta,
    ResourceType, RowVersion, UnitOfWork, retry_on_stale,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::SettingsRepository;
use crate::management::LANGUAGES;

const RETENTION_DAYS_MAX: i32 = 3650;
/// Zone and link names of the IANA time-zone database (regenerate from tzdata.zi).
const TIMEZONES: &str = include_str!("timezones.txt");
/// The time zone of a user who has not chosen one.
pub const DEFAULT_TIMEZONE: &str = "Asia/Tashkent";

/// One user's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSettings {
    pub user_id: AccountId,
    pub email_notifications: bool,
    pub sms_notifications: bool,
    pub push_notifications: bool,
    pub language: String,
    pub timezone: String,
    /// `None`: keep records forever.
    pub auto_delete_records_after_days: Option<i32>,
    pub preferred_stt_model: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub row_version: RowVersion,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChanges {
    pub email_notifications: Option<bool>,
    pub sms_notifications: Option<bool>,
    pub push_notifications: Option<bool>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    /// `Some(None)` means never delete.
    pub auto_delete_records_after_days: Option<Option<i32>>,
    pub preferred_stt_model: Option<String>,
}

/// Reading and changing the caller's settings.
pub struct SettingsService {
    settings: Arc<dyn SettingsRepository>,
    audited: AuditedUnitOfWork,
    clock: Arc<dyn Clock>,
    /// The speech-to-text models users may choose from; the first is the default.
    stt_models: Vec<String>,
}

/// The adapters `SettingsService` works through.
pub struct SettingsPorts {
    pub settings: Arc<dyn SettingsRepository>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

impl SettingsService {
    /// `stt_models`: the speech-to-text models users may choose from; the first is the
    /// default.
    pub fn new(ports: SettingsPorts, stt_models: Vec<String>) -> Self {
        Self {
            settings: ports.settings,
            audited: AuditedUnitOfWork::new(ports.uow, ports.audit),
            clock: ports.clock,
            stt_models,
        }
    }

    /// The caller's settings, stored with the defaults on first read.
    pub async fn get(&self, actor: &Actor, meta: &RequestMeta) -> DomainResult<UserSettings> {
        if let Some(settings) = self.settings.find(actor.account_id).await? {
            return Ok(settings);
        }
        let now = self.clock.now();
        let defaults = UserSettings {
            user_id: actor.account_id,
            email_notifications: true,
            sms_notifications: false,
            push_notifications: true,
            language: "uz".into(),
            timezone: DEFAULT_TIMEZONE.into(),
            auto_delete_records_after_days: Some(DEFAULT_RETENTION_DAYS),
            preferred_stt_model: self
                .stt_models
                .first()
                .cloned()
                .unwrap_or_else(|| "mohirai".into()),
            created_at: now,
            updated_at: now,
            row_version: RowVersion::default(),
        };
        let event = AuditEvent::by(
            actor,
            AuditAction::Create,
            ResourceType::Settings,
            actor.account_id,
        )
        .details(json!({"defaults": true}))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        if self.settings.insert(tx.as_mut(), &defaults).await? {
            tx.commit(event, now).await?;
            return Ok(defaults);
        }
        drop(tx);
        self.settings
            .find(actor.account_id)
            .await?
            .ok_or_else(|| dialix_kernel::DomainError::internal("settings vanished"))
    }

    /// Applies a partial update after checking every field; concurrent updates of different
    /// fields both land.
    pub async fn update(
        &self,
        actor: &Actor,
        changes: SettingsChanges,
        meta: &RequestMeta,
    ) -> DomainResult<UserSettings> {
        retry_on_stale(|| self.try_update(actor, changes.clone(), meta)).await
    }

    async fn try_update(
        &self,
        actor: &Actor,
        changes: SettingsChanges,
        meta: &RequestMeta,
    ) -> DomainResult<UserSettings> {
        let before = self.get(actor, meta).await?;
        let mut after = before.clone();
        let mut errors = FieldErrors::new();
        if let Some(value) = changes.email_notifications {
            after.email_notifications = value;
        }
        if let Some(value) = changes.sms_notifications {
            after.sms_notifications = value;
        }
        if let Some(value) = changes.push_notifications {
            after.push_notifications = value;
        }
        if let Some(language) = changes.language {
            errors.check(
                LANGUAGES.contains(&language.as_str()),
                "language",
                format!("must be one of {}", LANGUAGES.join(", ")),
            );
            after.language = language;
        }
        if let Some(timezone) = changes.timezone {
            errors.check(
                is_timezone(&timezone),
                "timezone",
                "must be an IANA time-zone name, e.g. Asia/Tashkent",
            );
            after.timezone = timezone;
        }
        if let Some(days) = changes.auto_delete_records_after_days {
            errors.check(
                days.is_none_or(|d| (1..=RETENTION_DAYS_MAX).contains(&d)),
                "auto_delete_records_after_days",
                format!("must be 1 to {RETENTION_DAYS_MAX}, or null to keep records forever"),
            );
            after.auto_delete_records_after_days = days;
        }
        if let Some(model) = changes.preferred_stt_model {
            errors.check(
                self.stt_models.contains(&model),
                "preferred_stt_model",
                format!("must be one of {}", self.stt_models.join(", ")),
            );
            after.preferred_stt_model = model;
        }
        errors.into_result()?;
        let diff = Changes::new()
            .field(
                "email_notifications",
                &before.email_notifications,
                &after.email_notifications,
            )
            .field(
                "sms_notifications",
                &before.sms_notifications,
                &after.sms_notifications,
            )
            .field(
                "push_notifications",
                &before.push_notifications,
                &after.push_notifications,
            )
            .field("language", &before.language, &after.language)
            .field("timezone", &before.timezone, &after.timezone)
            .field(
                "auto_delete_records_after_days",
                &before.auto_delete_records_after_days,
                &after.auto_delete_records_after_days,
            )
            .field(
                "preferred_stt_model",
                &before.preferred_stt_model,
                &after.preferred_stt_model,
            );
        if diff.is_empty() {
            return Ok(before);
        }
        let now = self.clock.now();
        after.updated_at = now;
        let event = AuditEvent::by(
            actor,
            AuditAction::Update,
            ResourceType::Settings,
            actor.account_id,
        )
        .details(diff.into_value())
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.settings.update(tx.as_mut(), &mut after).await?;
        tx.commit(event, now).await?;
        Ok(after)
    }
}

fn is_timezone(name: &str) -> bool {
    !name.starts_with('#') && TIMEZONES.lines().any(|line| line == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_zone_names_are_recognised() {
        for zone in [
            "Asia/Tashkent",
            "Europe/Moscow",
            "UTC",
            "America/Argentina/Buenos_Aires",
        ] {
            assert!(is_timezone(zone), "{zone}");
        }
        for bogus in [
            "Asia/Atlantis",
            "",
            "asia/tashkent",
            "# IANA time-zone names",
        ] {
            assert!(!is_timezone(bogus), "{bogus}");
        }
    }
}
