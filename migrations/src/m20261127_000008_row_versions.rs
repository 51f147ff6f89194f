//! Optimistic concurrency and separate idempotency namespaces.
//!
//! Every mutable entity gets `row_version`: writes are conditional on the version they read
//! and bump it, so a write decided on a stale copy fails instead of undoing a concurrent
//! change. Ledger idempotency keys are stored as `<kind>:<key>`, so a client's top-up key can
//! never match a processing charge's internal key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const VERSIONED: [&str; 7] = [
    "account",
    "company",
    "company_administrator",
    "operator",
    "checklist",
    "user_settings",
    "record",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in VERSIONED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(big_integer(RowVersion::RowVersion).default(0))
                        .to_owned(),
                )
                .await?;
        }
        // The longest kind ("transfer_out") and its colon on top of a 128-character key.
        // SQLite does not enforce declared lengths.
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transaction::Table)
                        .modify_column(string_len_null(Transaction::IdempotencyKey, 160))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE \"transaction\" SET idempotency_key = kind || ':' || idempotency_key \
                 WHERE idempotency_key IS NOT NULL",
            )
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE \"transaction\" SET idempotency_key = \
                 substr(idempotency_key, length(kind) + 2) WHERE idempotency_key IS NOT NULL",
            )
            .await?;
        for table in VERSIONED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(RowVersion::RowVersion)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RowVersion {
    RowVersion,
}

#[derive(DeriveIden)]
enum Transaction {
    Table,
    IdempotencyKey,
}
