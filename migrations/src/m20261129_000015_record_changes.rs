//! What the change feed behind `GET /records/events` needs.
//!
//! - Indexes on the change time of live records, overall (platform admins, and own uploads:
//!   the feed reads only the last seconds, a short range) and per company, so a read costs
//!   the few recent changes instead of a scan of the company's or everyone's calls.
//! - On PostgreSQL, triggers announce every record change on [`CHANNEL`], so streams read
//!   when something changed instead of each on a timer. The payload is the record's company
//!   id: small, and notifications of one transaction with the same payload are delivered
//!   once, so a bulk change is one wake-up. Triggers rather than a `NOTIFY` issued by the
//!   repository: records are written by API processes, by `dialix worker` processes on
//!   other machines, by raw statements (the job claim, retention) and by operators, and a
//!   trigger announces all of them; like any `NOTIFY`, it is delivered when (and only if)
//!   the transaction commits, so a listener that reads on the notification sees the change.
//!   SQLite has no notifications (its streams keep polling).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// Where the triggers notify; the listener in `infrastructure` listens here.
pub const CHANNEL: &str = "dialix_record_changes";

/// Name and key of each index; both hold live records only (the feed skips deleted ones).
const INDEXES: [(&str, &str); 2] = [
    ("idx_record_live_updated", "updated_at, id"),
    (
        "idx_record_live_company_updated",
        "company_id, updated_at, id",
    ),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Partial-index syntax is the same on both databases.
        for (name, key) in INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON record ({key}) WHERE deleted_at IS NULL"
            ))
            .await?;
        }
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(&format!(
            "CREATE FUNCTION notify_record_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
                 PERFORM pg_notify('{CHANNEL}', NEW.company_id::text); \
                 RETURN NULL; \
             END $$"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER record_inserted_notify AFTER INSERT ON record \
             FOR EACH ROW EXECUTE FUNCTION notify_record_change()",
        )
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER record_changed_notify AFTER UPDATE ON record FOR EACH ROW \
             WHEN (OLD.status IS DISTINCT FROM NEW.status \
                   OR OLD.updated_at IS DISTINCT FROM NEW.updated_at) \
             EXECUTE FUNCTION notify_record_change()",
        )
        .await
        .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            for statement in [
                "DROP TRIGGER IF EXISTS record_changed_notify ON record",
                "DROP TRIGGER IF EXISTS record_inserted_notify ON record",
                "DROP FUNCTION IF EXISTS notify_record_change()",
            ] {
                db.execute_unprepared(statement).await?;
            }
        }
        for (name, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("record"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
