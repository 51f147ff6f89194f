//! A chat question's reserved price, kept as a row from the reservation until it is settled
//! or released, so that the reservation of a question whose process died is found (by age)
//! and given back. The id is the question's message id.

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
                    .table(ChatReservation::Table)
                    .col(pk_uuid(ChatReservation::Id))
                    .col(uuid(ChatReservation::CompanyId))
                    .col(big_integer(ChatReservation::Amount))
                    .col(big_integer(ChatReservation::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatReservation::Table, ChatReservation::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The sweep looks for old reservations.
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_reservation_created_at")
                    .table(ChatReservation::Table)
                    .col(ChatReservation::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChatReservation::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ChatReservation {
    Table,
    Id,
    CompanyId,
    Amount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Company {
    Table,
    Id,
}
