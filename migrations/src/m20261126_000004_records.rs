//! Records (uploaded calls).

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
                    .table(Record::Table)
                    .col(pk_uuid(Record::Id))
                    .col(uuid(Record::OwnerId))
                    .col(uuid(Record::CompanyId))
                    .col(string_len_null(Record::OperatorCode, 32))
                    .col(string_len_null(Record::ClientPhoneNumber, 16))
                    .col(string_len_null(Record::CallType, 16))
                    .col(big_integer_null(Record::CallStartedAt))
                    .col(big_integer(Record::DurationMs))
                    .col(string_len(Record::Status, 16))
                    .col(boolean(Record::General))
                    .col(string_len(Record::OriginalFilename, 255))
                    .col(string_len(Record::ContentType, 64))
                    .col(big_integer(Record::SizeBytes))
                    .col(string_len_null(Record::StorageKey, 128))
                    .col(json_binary_null(Record::Payload))
                    .col(text_null(Record::Error))
                    .col(big_integer(Record::CreatedAt))
                    .col(big_integer(Record::UpdatedAt))
                    .col(big_integer_null(Record::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Record::Table, Record::OwnerId)
                            .to(Account::Table, Account::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Record::Table, Record::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &[Record]); 3] = [
            (
                "idx_record_owner_status",
                &[Record::OwnerId, Record::Status],
            ),
            ("idx_record_phone", &[Record::ClientPhoneNumber]),
            (
                "idx_record_company_created",
                &[Record::CompanyId, Record::CreatedAt],
            ),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create();
            index.name(name).table(Record::Table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Record::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Company {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Record {
    Table,
    Id,
    OwnerId,
    CompanyId,
    OperatorCode,
    ClientPhoneNumber,
    CallType,
    CallStartedAt,
    DurationMs,
    Status,
    General,
    OriginalFilename,
    ContentType,
    SizeBytes,
    StorageKey,
    Payload,
    Error,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}
