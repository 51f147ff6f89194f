//! Columns and indexes for grouping calls by client number.
//!
//! `call_at` is when the call happened (`call_started_at` when known, else the upload time),
//! so chains are computed on one indexed column. The analysis facts that groups and similar
//! calls aggregate (purpose, customer satisfied, key words) are promoted out of the JSON
//! payload, as `sentiment` already is, and backfilled from it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A partial index holding only `rows`. On PostgreSQL it also stores the `covers` columns, so
/// the read it serves never visits the table; SQLite has no `INCLUDE`.
struct PartialIndex {
    name: &'static str,
    key: &'static str,
    covers: &'static str,
    rows: &'static str,
}

const INDEXES: [PartialIndex; 4] = [
    // A company's chains: scanned in (number, time) order with every column the pass reads.
    PartialIndex {
        name: "idx_record_company_phone_call_at",
        key: "company_id, client_phone_number, call_at, id",
        covers: "duration_ms, sentiment, operator_code, customer_satisfied",
        rows: "deleted_at IS NULL AND client_phone_number IS NOT NULL",
    },
    // One number's calls across the caller's scope (expand view, own uploads).
    PartialIndex {
        name: "idx_record_phone_call_at",
        key: "client_phone_number, call_at, id",
        covers: "",
        rows: "deleted_at IS NULL AND client_phone_number IS NOT NULL",
    },
    // Calls without a number, counted beside the chains.
    PartialIndex {
        name: "idx_record_company_no_phone",
        key: "company_id, call_at",
        covers: "",
        rows: "deleted_at IS NULL AND client_phone_number IS NULL",
    },
    // Similar calls: the newest calls of a company with one purpose, with their key words.
    PartialIndex {
        name: "idx_record_company_purpose_call_at",
        key: "company_id, call_purpose, call_at, id",
        covers: "client_phone_number, operator_code, sentiment, key_words",
        rows: "deleted_at IS NULL AND call_purpose IS NOT NULL",
    },
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
        let postgres = manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        for index in INDEXES {
            let covers = match (postgres, index.covers) {
                (true, columns) if !columns.is_empty() => format!(" INCLUDE ({columns})"),
                _ => String::new(),
            };
            db.execute_unprepared(&format!(
                "CREATE INDEX {} ON record ({}){covers} WHERE {}",
                index.name, index.key, index.rows
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(index.name)
                        .table(Record::Table)
                        .to_owned(),
                )
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
