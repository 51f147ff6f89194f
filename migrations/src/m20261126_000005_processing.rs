//! The processing pipeline: a durable job queue, reservations on balances and records.

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
            .alter_table(
                Table::alter()
                    .table(Company::Table)
                    .add_column(big_integer(Company::Reserved).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Record::Table)
                    .add_column(big_integer(Record::ReservedAmount).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProcessingJob::Table)
                    .col(pk_uuid(ProcessingJob::Id))
                    .col(uuid_uniq(ProcessingJob::RecordId))
                    .col(string_len(ProcessingJob::Status, 16))
                    .col(integer(ProcessingJob::Attempts))
                    .col(big_integer(ProcessingJob::AvailableAt))
                    .col(string_len_null(ProcessingJob::LockedBy, 64))
                    .col(big_integer_null(ProcessingJob::LockedUntil))
                    .col(text_null(ProcessingJob::LastError))
                    .col(big_integer(ProcessingJob::CreatedAt))
                    .col(big_integer(ProcessingJob::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProcessingJob::Table, ProcessingJob::RecordId)
                            .to(Record::Table, Record::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_processing_job_ready")
                    .table(ProcessingJob::Table)
                    .col(ProcessingJob::Status)
                    .col(ProcessingJob::AvailableAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProcessingJob::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Record::Table)
                    .drop_column(Record::ReservedAmount)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Company::Table)
                    .drop_column(Company::Reserved)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Company {
    Table,
    Reserved,
}

#[derive(DeriveIden)]
enum Record {
    Table,
    Id,
    ReservedAmount,
}

#[derive(DeriveIden)]
enum ProcessingJob {
    Table,
    Id,
    RecordId,
    Status,
    Attempts,
    AvailableAt,
    LockedBy,
    LockedUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}
