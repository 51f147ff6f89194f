//! The records listing of a company reads live (undeleted) records newest first and counts
//! them: a partial index on exactly those answers both from the index alone (PostgreSQL
//! index-only scan), instead of visiting every row of the company to check `deleted_at`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_record_live_company_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Partial-index syntax is the same on both databases.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {NAME} ON record (company_id, created_at, id) \
                 WHERE deleted_at IS NULL"
            ))
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(Alias::new("record"))
                    .to_owned(),
            )
            .await
    }
}
