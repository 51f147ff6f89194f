//! Record columns that listings filter on (promoted out of the JSON payload) and the
//! processing round that keys each run's charges.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite cannot add several at once.
        for column in [
            string_len_null(Record::Sentiment, 16),
            text_null(Record::TranscriptText),
            integer(Record::ProcessingRound).default(1).to_owned(),
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
        manager
            .create_index(
                Index::create()
                    .name("idx_record_company_status")
                    .table(Record::Table)
                    .col(Record::CompanyId)
                    .col(Record::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Record::ProcessingRound,
            Record::TranscriptText,
            Record::Sentiment,
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
    CompanyId,
    Status,
    Sentiment,
    TranscriptText,
    ProcessingRound,
}
