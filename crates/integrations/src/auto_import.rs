//! The automatic import's settings: what a company chose, and "run now".

use dialix_audit::{AuditAction, AuditEvent};
use dialix_kernel::{
    Actor, CompanyId, DomainError, DomainResult, FieldErrors, RequestMeta, ResourceType,
    RowVersion, retry_on_stale,
};
use serde_json::json;

use crate::access::managed_company;
use crate::import::ImportService;
use crate::{AutoImport, AutoImportSettings};

/// Bounds of the interval between two runs, in minutes.
pub const INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;
/// Bounds of the minimum talk time, in seconds.
pub const MIN_TALK_SECONDS: std::ops::RangeInclusive<u32> = 0..=3600;

impl ImportService {
    /// The company's automatic import; 404 when it never set one up.
    pub async fn auto_import(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
    ) -> DomainResult<AutoImport> {
        let company = managed_company(self.ports().tree.as_ref(), actor, company).await?;
        self.ports()
            .auto_imports
            .find(company)
            .await?
            .ok_or(DomainError::NotFound("automatic import"))
    }

    /// Saves the settings. Switching the import on for the first time starts it from now:
    /// earlier calls are for an import by hand. The saver becomes the owner of the records
    /// it creates; the next run is due at once.
    pub async fn set_auto_import(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        settings: AutoImportSettings,
        meta: &RequestMeta,
    ) -> DomainResult<AutoImport> {
        let company = managed_company(self.ports().tree.as_ref(), actor, company).await?;
        let mut errors = FieldErrors::new();
        errors.check(
            INTERVAL_MINUTES.contains(&settings.interval_minutes),
            "interval_minutes",
            format!(
                "must be {} to {} minutes",
                INTERVAL_MINUTES.start(),
                INTERVAL_MINUTES.end()
            ),
        );
        errors.check(
            MIN_TALK_SECONDS.contains(&settings.min_talk_seconds),
            "min_talk_seconds",
            format!(
                "must be {} to {} seconds",
                MIN_TALK_SECONDS.start(),
                MIN_TALK_SECONDS.end()
            ),
        );
        errors.into_result()?;
        if let Some(id) = settings.checklist_id {
            self.ports()
                .checklists
                .find(id, None)
                .await?
                .filter(|c| c.company_id == company)
                .ok_or_else(|| {
                    FieldErrors::single("checklist_id", "no checklist of the company has this id")
                })?;
        }
        if self.ports().vault.pbx(company).await?.is_none() {
            return Err(DomainError::conflict(
                "integration",
                "the company has not connected its OnlinePBX: PUT /integrations/pbx first",
            ));
        }
        retry_on_stale(|| self.try_set(actor, company, settings.clone(), meta)).await
    }

    async fn try_set(
        &self,
        actor: &Actor,
        company: CompanyId,
        settings: AutoImportSettings,
        meta: &RequestMeta,
    ) -> DomainResult<AutoImport> {
        let now = self.ports().clock.now();
        let before = self.ports().auto_imports.find(company).await?;
        let mut import = match before.clone() {
            Some(existing) => AutoImport {
                settings: settings.clone(),
                owner_id: actor.account_id,
                // Switched on again after a pause: calls of the pause are not imported.
                imported_until: if existing.settings.enabled || !settings.enabled {
                    existing.imported_until
                } else {
                    now
                },
                next_run_at: now,
                updated_at: now,
                ..existing
            },
            None => AutoImport {
                company_id: company,
                settings: settings.clone(),
                owner_id: actor.account_id,
                import_from: now,
                imported_until: now,
                next_run_at: now,
                last_run: None,
                updated_at: now,
                row_version: RowVersion::default(),
            },
        };
        let describe = |s: &AutoImportSettings| {
            json!({
                "enabled": s.enabled,
                "interval_minutes": s.interval_minutes,
                "min_talk_seconds": s.min_talk_seconds,
                "general": s.general,
                "checklist_id": s.checklist_id,
            })
        };
        let event = AuditEvent::by(
            actor,
            if before.is_some() {
                AuditAction::Update
            } else {
                AuditAction::Create
            },
            ResourceType::Integration,
            company,
        )
        .details(json!({
            "kind": "pbx_auto_import",
            "old_value": before.as_ref().map(|b| describe(&b.settings)),
            "new_value": describe(&settings),
        }))
        .meta(meta);
        let mut tx = self.audited().begin().await?;
        self.ports()
            .auto_imports
            .save(tx.as_mut(), &mut import)
            .await?;
        tx.commit(event, now).await?;
        Ok(import)
    }

    /// Makes the next run due now (the workers take it within a moment).
    pub async fn run_auto_import_now(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
    ) -> DomainResult<AutoImport> {
        let company = managed_company(self.ports().tree.as_ref(), actor, company).await?;
        retry_on_stale(|| async {
            let mut import = self
                .ports()
                .auto_imports
                .find(company)
                .await?
                .ok_or(DomainError::NotFound("automatic import"))?;
            if !import.settings.enabled {
                return Err(DomainError::conflict(
                    "enabled",
                    "the automatic import is switched off",
                ));
            }
            import.next_run_at = self.ports().clock.now();
            let mut tx = self.ports().uow.begin().await?;
            self.ports()
                .auto_imports
                .save(tx.as_mut(), &mut import)
                .await?;
            tx.commit().await?;
            Ok(import)
        })
        .await
    }
}
