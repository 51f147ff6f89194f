//! Every authenticated request reads the caller's administrator grants by `user_id`; the only
//! index led with `company_id`, so each request scanned the whole grants table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_company_administrator_user";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(CompanyAdministrator::Table)
                    .col(CompanyAdministrator::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(CompanyAdministrator::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CompanyAdministrator {
    Table,
    UserId,
}
