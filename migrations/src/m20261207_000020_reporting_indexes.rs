//! Indexes for the statistics, dashboard and compliance figures, from `make bench`
//! (`docs/performance.md`, "Statistics, dashboard and compliance"): one company's 30 days read
//! 16,000 calls, 35,000 ledger charges and 46,000 checklist verdicts, and every figure must
//! come from an index alone, not from rows scattered over the tables (calls and charges of
//! twenty companies interleave; one company's month touched 11,000–14,000 heap pages per
//! statement).
//!
//! - Live records by call time: the covering index of migration 19 also carries `id` (the
//!   verdict queries keep only verdicts of live calls, by id), `call_purpose` and
//!   `checklist_id` (the dashboard's purposes, compliance per checklist).
//! - Checklist verdicts by call time carry what the per-item tallies read.
//! - Verdicts by outcome and call time, in the order violations are listed: a page is the
//!   newest entries of one range, not a sort of every failure of the period. Not a partial
//!   index on `passed = false`: the query binds `passed` as a parameter, and once PostgreSQL
//!   switches a prepared statement to its generic plan (after five executions) a partial
//!   index no longer applies (the page then took 152 ms instead of 18).
//! - The ledger by company, kind and time, with what the spend and top-up figures sum: charges
//!   and top-ups are separate ranges.
//! - A record's operator code by id: spend per operator looks up the call of each charge.
//!
//! PostgreSQL gets the covering `INCLUDE` columns; SQLite gets the same keys (migration 19's
//! pattern), and its existing indexes stay as they are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Migration 19's live-records index, as it was (restored by `down`).
const RECORD_COVER_19: &str = "status, duration_ms, size_bytes, owner_id, operator_code, \
     sentiment, sentiment_client, sentiment_operator, customer_satisfied, checklist_score, \
     checklist_compliant";

const RECORD_COVER: &str = "id, status, duration_ms, size_bytes, owner_id, operator_code, \
     call_purpose, sentiment, sentiment_client, sentiment_operator, customer_satisfied, \
     checklist_id, checklist_score, checklist_compliant";

const VERDICT_COVER: &str = "record_id, checklist_id, checklist_version, item_id, critical, passed";

/// Indexes this migration adds: name, then the definition on PostgreSQL and on SQLite.
const ADDED: [(&str, &str, &str); 3] = [
    (
        "idx_checklist_verdict_company_passed_call_at",
        "checklist_verdict (company_id, passed, call_at, record_id, item_id)",
        "checklist_verdict (company_id, passed, call_at, record_id, item_id)",
    ),
    (
        "idx_transaction_company_kind_created",
        "\"transaction\" (company_id, kind, created_at) \
         INCLUDE (id, charge_item, amount, owner_id, record_id)",
        "\"transaction\" (company_id, kind, created_at)",
    ),
    (
        "idx_record_id_operator",
        "record (id) INCLUDE (operator_code)",
        "record (id, operator_code)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        if postgres {
            replace_covering(db, RECORD_COVER, VERDICT_COVER).await?;
        }
        for (name, on_postgres, on_sqlite) in ADDED {
            let on = if postgres { on_postgres } else { on_sqlite };
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {on}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in ADDED {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            replace_covering(db, RECORD_COVER_19, "").await?;
        }
        Ok(())
    }
}

/// Rebuilds migration 19's two range indexes (PostgreSQL) covering `record` and `verdict`
/// (no `INCLUDE` when empty).
async fn replace_covering(
    db: &SchemaManagerConnection<'_>,
    record: &str,
    verdict: &str,
) -> Result<(), DbErr> {
    let include = |columns: &str| {
        if columns.is_empty() {
            String::new()
        } else {
            format!(" INCLUDE ({columns})")
        }
    };
    for sql in [
        "DROP INDEX idx_record_live_company_call_at".to_owned(),
        format!(
            "CREATE INDEX idx_record_live_company_call_at ON record (company_id, call_at){} \
             WHERE deleted_at IS NULL",
            include(record)
        ),
        "DROP INDEX idx_checklist_verdict_company_call_at".to_owned(),
        format!(
            "CREATE INDEX idx_checklist_verdict_company_call_at ON checklist_verdict \
             (company_id, call_at){}",
            include(verdict)
        ),
    ] {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}
