//! Company management: the balance ledger, why an account is blocked, soft deletion of
//! accounts, and per-user settings.

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
                    .table(Transaction::Table)
                    .col(pk_uuid(Transaction::Id))
                    .col(uuid(Transaction::CompanyId))
                    .col(uuid_null(Transaction::OwnerId))
                    .col(uuid_null(Transaction::RecordId))
                    .col(string_len(Transaction::Kind, 16))
                    .col(big_integer(Transaction::Amount))
                    .col(big_integer(Transaction::BalanceAfter))
                    .col(string_len_null(Transaction::IdempotencyKey, 128))
                    .col(big_integer(Transaction::CreatedAt))
                    .index(
                        Index::create()
                            .name("uq_transaction_idempotency")
                            .unique()
                            .col(Transaction::CompanyId)
                            .col(Transaction::IdempotencyKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Transaction::Table, Transaction::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transaction_company_created")
                    .table(Transaction::Table)
                    .col(Transaction::CompanyId)
                    .col(Transaction::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transaction_owner_created")
                    .table(Transaction::Table)
                    .col(Transaction::OwnerId)
                    .col(Transaction::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // One column per ALTER: SQLite cannot add several at once.
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(uuid_null(Account::BlockedByCompany))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(big_integer_null(Account::DeletedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserSettings::Table)
                    .col(pk_uuid(UserSettings::Id))
                    .col(uuid_uniq(UserSettings::UserId))
                    .col(boolean(UserSettings::EmailNotifications))
                    .col(boolean(UserSettings::SmsNotifications))
                    .col(boolean(UserSettings::PushNotifications))
                    .col(string_len(UserSettings::Language, 8))
                    .col(string_len(UserSettings::Timezone, 64))
                    .col(integer_null(UserSettings::AutoDeleteRecordsAfterDays))
                    .col(string_len(UserSettings::PreferredSttModel, 64))
                    .col(big_integer(UserSettings::CreatedAt))
                    .col(big_integer(UserSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserSettings::Table, UserSettings::UserId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserSettings::Table).to_owned())
            .await?;
        for column in [Account::DeletedAt, Account::BlockedByCompany] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Account::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Transaction::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Company {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    BlockedByCompany,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Transaction {
    Table,
    Id,
    CompanyId,
    OwnerId,
    RecordId,
    Kind,
    Amount,
    BalanceAfter,
    IdempotencyKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserSettings {
    Table,
    Id,
    UserId,
    EmailNotifications,
    SmsNotifications,
    PushNotifications,
    Language,
    Timezone,
    AutoDeleteRecordsAfterDays,
    PreferredSttModel,
    CreatedAt,
    UpdatedAt,
}
