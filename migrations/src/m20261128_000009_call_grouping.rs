//! Columns and indexes for grouping calls by client number.
//!
//! `call_at` is when the call happened (`call_started_at` when known, else the upload time),
//! so chains are computed on one indexed column. The analysis facts that groups and similar
//! calls aggregate (purpose, customer satisfied, key words) are promoted out of the JSON
//! payload, as `sentiment` already is, and backfilled from it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A company's chains: every column the grouping pass reads, so PostgreSQL answers it from
/// the index alone (no heap visit per call); partial, since grouping reads only live calls
/// with a number. SQLite has no `INCLUDE`.
const CHAIN_INDEX: &str = "CREATE INDEX idx_record_company_phone_call_at \
     ON record (company_id, client_phone_number, call_at, id)";
const CHAIN_INDEX_COVERS: &str =
    " INCLUDE (duration_ms, sentiment, operator_code, customer_satisfied)";
const CHAIN_INDEX_WHERE: &str = " WHERE deleted_at IS NULL AND client_phone_number IS NOT NULL";

/// Partial indexes (same syntax on both databases).
const INDEXES: [&str; 3] = [
    // One number's calls across the caller's scope (expand view, own uploads).
    "CREATE INDEX idx_record_phone_call_at ON record (client_phone_number, call_at, id) \
     WHERE deleted_at IS NULL AND client_phone_number IS NOT NULL",
    // Calls without a number, counted beside the chains.
    "CREATE INDEX idx_record_company_no_phone ON record (company_id, call_at) \
     WHERE deleted_at IS NULL AND client_phone_number IS NULL",
    // Similar calls: the newest calls of a company with one purpose.
    "CREATE INDEX idx_record_company_purpose_call_at ON record (company_id, call_purpose, call_at) \
     WHERE deleted_at IS NULL AND call_purpose IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite cannot add several at once.
        for column in [
            big_integer(Record::CallAt).default(0).to_owned(),
            string_len_null(Record::CallPurpose, 128),
            boolean_null(Record::CustomerSatisfied),
            json_binary_null(Record::KeyWords),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Record::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let backfill = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE record SET call_at = COALESCE(call_started_at, created_at), \
                 call_purpose = payload->'general'->>'call_purpose', \
                 customer_satisfied = (payload->'general'->>'is_customer_satisfied')::boolean, \
                 key_words = payload->'general'->'key_words'"
            }
            _ => {
                "UPDATE record SET call_at = COALESCE(call_started_at, created_at), \
                 call_purpose = json_extract(payload, '$.general.call_purpose'), \
                 customer_satisfied = json_extract(payload, '$.general.is_customer_satisfied'), \
                 key_words = json_extract(payload, '$.general.key_words')"
            }
        };
        let db = manager.get_connection();
        db.execute_unprepared(backfill).await?;
        let covers = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => CHAIN_INDEX_COVERS,
            _ => "",
        };
        db.execute_unprepared(&format!("{CHAIN_INDEX}{covers}{CHAIN_INDEX_WHERE}"))
            .await?;
        for index in INDEXES {
            db.execute_unprepared(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_record_company_phone_call_at",
            "idx_record_phone_call_at",
            "idx_record_company_no_phone",
            "idx_record_company_purpose_call_at",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Record::Table).to_owned())
                .await?;
        }
        for column in [
            Record::KeyWords,
            Record::CustomerSatisfied,
            Record::CallPurpose,
            Record::CallAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Record::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Record {
    Table,
    CallAt,
    CallPurpose,
    CustomerSatisfied,
    KeyWords,
}
