//! The automatic imports in `pbx_auto_import`: versioned writes, and claims of due runs by a
//! conditional write that any number of workers in any number of processes can race for.

use std::time::Duration;

use async_trait::async_trait;
use dialix_integrations::{AutoImport, AutoImportRepository, AutoImportSettings, ImportRun};
use dialix_kernel::{AccountId, ChecklistId, CompanyId, DomainError, DomainResult, RowVersion, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Database;
use crate::entities::pbx_auto_import;
use crate::sql::internal;
use crate::transaction::db_tx;

/// Due imports read per claim: if another worker wins the first, the next is tried.
const CLAIM_CANDIDATES: u64 = 5;

/// Automatic imports in the `pbx_auto_import` table. Claims write outside any caller's
/// transaction, so they go to the writer.
pub struct SeaAutoImports {
    db: Database,
}

impl SeaAutoImports {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AutoImportRepository for SeaAutoImports {
    async fn find(&self, company: CompanyId) -> DomainResult<Option<AutoImport>> {
        let row = pbx_auto_import::Entity::find_by_id(company.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(to_domain))
    }

    async fn save(&self, tx: &mut Tx, import: &mut AutoImport) -> DomainResult<()> {
        let txn = db_tx(tx)?;
        let next = import.row_version.next();
        let row = to_row(import, next)?;
        let written = if import.row_version == RowVersion::default() {
            // Never stored: a concurrent first save of the same company wins, this one is stale.
            pbx_auto_import::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(pbx_auto_import::Column::CompanyId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await
                .map_err(internal)?
        } else {
            // Stored before: only over the version read, so an import deleted meanwhile stays
            // deleted.
            pbx_auto_import::Entity::update_many()
                .set(row)
                .filter(pbx_auto_import::Column::CompanyId.eq(import.company_id.as_uuid()))
                .filter(pbx_auto_import::Column::RowVersion.eq(import.row_version.0))
                .exec(txn)
                .await
                .map_err(internal)?
                .rows_affected
        };
        if written == 0 {
            return Err(DomainError::Stale("automatic import"));
        }
        import.row_version = next;
        Ok(())
    }

    async fn delete(&self, tx: &mut Tx, company: CompanyId) -> DomainResult<()> {
        pbx_auto_import::Entity::delete_by_id(company.as_uuid())
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> DomainResult<Option<AutoImport>> {
        let writer = self.db.writer();
        let due = pbx_auto_import::Entity::find()
            .filter(pbx_auto_import::Column::Enabled.eq(true))
            .filter(pbx_auto_import::Column::NextRunAt.lte(TimeUnixTimestampMillis(now)))
            .order_by_asc(pbx_auto_import::Column::NextRunAt)
            .limit(CLAIM_CANDIDATES)
            .all(writer)
            .await
            .map_err(internal)?;
        let until =
            now.saturating_add(time::Duration::try_from(lease).unwrap_or(time::Duration::MAX));
        for mut row in due {
            let claimed = pbx_auto_import::Entity::update_many()
                .col_expr(
                    pbx_auto_import::Column::NextRunAt,
                    Expr::value(TimeUnixTimestampMillis(until)),
                )
                .col_expr(
                    pbx_auto_import::Column::RowVersion,
                    Expr::value(row.row_version + 1),
                )
                .filter(pbx_auto_import::Column::CompanyId.eq(row.company_id))
                .filter(pbx_auto_import::Column::RowVersion.eq(row.row_version))
                .exec(writer)
                .await
                .map_err(internal)?;
            if claimed.rows_affected == 1 {
                row.next_run_at = TimeUnixTimestampMillis(until);
                row.row_version += 1;
                return Ok(Some(to_domain(row)));
            }
        }
        Ok(None)
    }
}

/// `ImportRun` as stored in `last_run`: the stored shape is this adapter's, not the domain's.
#[derive(Serialize, Deserialize)]
struct StoredRun {
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<OffsetDateTime>,
    #[serde(default)]
    imported: u32,
    #[serde(default)]
    already_imported: u32,
    #[serde(default)]
    skipped_short: u32,
    #[serde(default)]
    waiting_for_balance: u32,
    #[serde(default)]
    error: Option<String>,
}

impl From<&ImportRun> for StoredRun {
    fn from(run: &ImportRun) -> Self {
        StoredRun {
            at: run.at,
            imported: run.imported,
            already_imported: run.already_imported,
            skipped_short: run.skipped_short,
            waiting_for_balance: run.waiting_for_balance,
            error: run.error.clone(),
        }
    }
}

impl From<StoredRun> for ImportRun {
    fn from(run: StoredRun) -> Self {
        ImportRun {
            at: run.at,
            imported: run.imported,
            already_imported: run.already_imported,
            skipped_short: run.skipped_short,
            waiting_for_balance: run.waiting_for_balance,
            error: run.error,
        }
    }
}

/// The whole row, at version `version`.
fn to_row(import: &AutoImport, version: RowVersion) -> DomainResult<pbx_auto_import::ActiveModel> {
    let last_run = import
        .last_run
        .as_ref()
        .map(|run| serde_json::to_value(StoredRun::from(run)))
        .transpose()
        .map_err(|e| DomainError::internal(format!("automatic import's last run: {e}")))?;
    let settings = &import.settings;
    Ok(pbx_auto_import::ActiveModel {
        company_id: Set(import.company_id.as_uuid()),
        enabled: Set(settings.enabled),
        interval_minutes: Set(i32::try_from(settings.interval_minutes).unwrap_or(i32::MAX)),
        min_talk_seconds: Set(i32::try_from(settings.min_talk_seconds).unwrap_or(i32::MAX)),
        general: Set(settings.general),
        checklist_id: Set(settings.checklist_id.map(|c| c.as_uuid())),
        owner_id: Set(import.owner_id.as_uuid()),
        import_from: Set(TimeUnixTimestampMillis(import.import_from)),
        imported_until: Set(TimeUnixTimestampMillis(import.imported_until)),
        next_run_at: Set(TimeUnixTimestampMillis(import.next_run_at)),
        last_run: Set(last_run),
        updated_at: Set(TimeUnixTimestampMillis(import.updated_at)),
        row_version: Set(version.0),
    })
}

fn to_domain(row: pbx_auto_import::Model) -> AutoImport {
    // A last run that no longer reads is only a report lost: the next run writes a new one.
    let last_run = row.last_run.and_then(|value| {
        serde_json::from_value::<StoredRun>(value)
            .inspect_err(|error| {
                tracing::warn!(company = %row.company_id, %error, "unreadable last import run");
            })
            .ok()
            .map(ImportRun::from)
    });
    AutoImport {
        company_id: CompanyId::from_uuid(row.company_id),
        settings: AutoImportSettings {
            enabled: row.enabled,
            interval_minutes: u32::try_from(row.interval_minutes).unwrap_or(0),
            min_talk_seconds: u32::try_from(row.min_talk_seconds).unwrap_or(0),
            general: row.general,
            checklist_id: row.checklist_id.map(ChecklistId::from_uuid),
        },
        owner_id: AccountId::from_uuid(row.owner_id),
        import_from: row.import_from.0,
        imported_until: row.imported_until.0,
        next_run_at: row.next_run_at.0,
        last_run,
        updated_at: row.updated_at.0,
        row_version: RowVersion(row.row_version),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use dialix_kernel::UnitOfWork;
    use time::macros::datetime;

    use super::*;
    use crate::SeaOrmUnitOfWork;

    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    /// A migrated in-memory database holding one company.
    pub(in crate::integrations) async fn database_with_company(company: CompanyId) -> Database {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        crate::entities::company::Entity::insert(crate::entities::company::ActiveModel {
            id: Set(company.as_uuid()),
            name: Set("Acme".into()),
            name_key: Set("acme".into()),
            description: Set(None),
            is_active: Set(true),
            parent_company_id: Set(None),
            hierarchy_level: Set(0),
            settings: Set(serde_json::json!({})),
            balance: Set(0),
            reserved: Set(0),
            created_at: Set(TimeUnixTimestampMillis(NOW)),
            updated_at: Set(TimeUnixTimestampMillis(NOW)),
            deleted_at: Set(None),
            row_version: Set(0),
        })
        .exec_without_returning(db.writer())
        .await
        .unwrap();
        db
    }

    fn import(company: CompanyId) -> AutoImport {
        AutoImport {
            company_id: company,
            settings: AutoImportSettings {
                enabled: true,
                interval_minutes: 15,
                min_talk_seconds: 10,
                general: true,
                checklist_id: None,
            },
            owner_id: AccountId::generate(),
            import_from: NOW,
            imported_until: NOW,
            next_run_at: NOW,
            last_run: Some(ImportRun {
                at: Some(NOW),
                imported: 3,
                error: Some("the PBX said no".into()),
                ..ImportRun::default()
            }),
            updated_at: NOW,
            row_version: RowVersion(0),
        }
    }

    async fn save(
        db: &Database,
        imports: &SeaAutoImports,
        import: &mut AutoImport,
    ) -> DomainResult<()> {
        let mut tx = SeaOrmUnitOfWork::new(db.clone()).begin().await?;
        imports.save(tx.as_mut(), import).await?;
        tx.commit().await
    }

    #[tokio::test]
    async fn saves_are_versioned_and_a_due_import_is_claimed_once() {
        let company = CompanyId::generate();
        let db = database_with_company(company).await;
        let imports = SeaAutoImports::new(db.clone());
        let mut first = import(company);
        save(&db, &imports, &mut first).await.unwrap();
        assert_eq!(first.row_version, RowVersion(1));
        assert_eq!(imports.find(company).await.unwrap(), Some(first.clone()));

        let mut stale = import(company);
        assert_eq!(
            save(&db, &imports, &mut stale).await,
            Err(DomainError::Stale("automatic import"))
        );

        let lease = Duration::from_secs(600);
        let early = NOW - time::Duration::minutes(1);
        assert_eq!(imports.claim_due(early, lease).await.unwrap(), None);
        let claimed = imports.claim_due(NOW, lease).await.unwrap().unwrap();
        assert_eq!(claimed.row_version, RowVersion(2));
        assert_eq!(claimed.next_run_at, NOW + lease);
        assert_eq!(imports.claim_due(NOW, lease).await.unwrap(), None);
        assert_eq!(
            save(&db, &imports, &mut first).await,
            Err(DomainError::Stale("automatic import")),
            "the claim moved the version on"
        );
        let mut run = claimed;
        save(&db, &imports, &mut run).await.unwrap();
        assert_eq!(imports.find(company).await.unwrap(), Some(run));
    }
}
