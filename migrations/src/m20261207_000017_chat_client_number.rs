//! Chat sessions over a client number's calls: the number (E.164) is the key of the subject
//! kind `client_number`, as `record_id` is of `record`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ChatSession::Table)
                    .add_column(string_len_null(ChatSession::ClientPhoneNumber, 32))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ChatSession::Table)
                    .drop_column(ChatSession::ClientPhoneNumber)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ChatSession {
    Table,
    ClientPhoneNumber,
}
