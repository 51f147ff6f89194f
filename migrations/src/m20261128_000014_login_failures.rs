//! Failed logins in the database instead of each process's memory, so that several API
//! processes allow together exactly the failures one would. One row per failure and key (the
//! SHA-256 of `account:…`, `login:…`, `addr:…` or a throttle marker); rows older than the
//! adapter's horizon are pruned as new failures arrive.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailure::Table)
                    .col(uuid(LoginFailure::Id).primary_key())
                    .col(string_len(LoginFailure::Key, 64))
                    .col(big_integer(LoginFailure::FailedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_login_failure_key_failed_at",
                &[LoginFailure::Key, LoginFailure::FailedAt][..],
            ),
            ("idx_login_failure_failed_at", &[LoginFailure::FailedAt][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table(LoginFailure::Table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailure::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum LoginFailure {
    Table,
    Id,
    Key,
    FailedAt,
}
