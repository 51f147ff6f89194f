//! Companies, accounts, company administrators, membership history and refresh tokens.

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
                    .table(Company::Table)
                    .col(pk_uuid(Company::Id))
                    .col(string_len(Company::Name, 200))
                    .col(string_len_uniq(Company::NameKey, 200))
                    .col(text_null(Company::Description))
                    .col(boolean(Company::IsActive))
                    .col(uuid_null(Company::ParentCompanyId))
                    .col(integer(Company::HierarchyLevel))
                    .col(json_binary(Company::Settings))
                    .col(big_integer(Company::Balance))
                    .col(big_integer(Company::CreatedAt))
                    .col(big_integer(Company::UpdatedAt))
                    .col(big_integer_null(Company::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Company::Table, Company::ParentCompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_company_parent")
                    .table(Company::Table)
                    .col(Company::ParentCompanyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(pk_uuid(Account::Id))
                    .col(string_len_uniq(Account::Email, 254))
                    .col(string_len_uniq(Account::Username, 50))
                    .col(string_len(Account::Password, 255))
                    .col(string_len(Account::Role, 16))
                    .col(uuid_null(Account::CompanyId))
                    .col(boolean(Account::IsActive))
                    .col(boolean(Account::IsBlocked))
                    .col(big_integer_null(Account::LastActivity))
                    .col(string_len(Account::PreferredLanguage, 8))
                    .col(big_integer(Account::CreatedAt))
                    .col(big_integer(Account::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Account::Table, Account::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_account_company", Account::CompanyId),
            ("idx_account_is_active", Account::IsActive),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Account::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CompanyAdministrator::Table)
                    .col(pk_uuid(CompanyAdministrator::Id))
                    .col(uuid(CompanyAdministrator::CompanyId))
                    .col(uuid(CompanyAdministrator::UserId))
                    .col(json_binary(CompanyAdministrator::Permissions))
                    .col(big_integer(CompanyAdministrator::CreatedAt))
                    .index(
                        Index::create()
                            .name("uq_company_administrator")
                            .unique()
                            .col(CompanyAdministrator::CompanyId)
                            .col(CompanyAdministrator::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompanyAdministrator::Table, CompanyAdministrator::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompanyAdministrator::Table, CompanyAdministrator::UserId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserCompanyHistory::Table)
                    .col(pk_uuid(UserCompanyHistory::Id))
                    .col(uuid(UserCompanyHistory::UserId))
                    .col(uuid(UserCompanyHistory::CompanyId))
                    .col(string_len(UserCompanyHistory::Action, 16))
                    .col(big_integer(UserCompanyHistory::BalanceAtTime))
                    .col(big_integer(UserCompanyHistory::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserCompanyHistory::Table, UserCompanyHistory::UserId)
                            .to(Account::Table, Account::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserCompanyHistory::Table, UserCompanyHistory::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_company_history_user")
                    .table(UserCompanyHistory::Table)
                    .col(UserCompanyHistory::UserId)
                    .col(UserCompanyHistory::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshToken::Table)
                    .col(pk_uuid(RefreshToken::Id))
                    .col(uuid(RefreshToken::AccountId))
                    .col(uuid(RefreshToken::Family))
                    .col(string_len_uniq(RefreshToken::TokenHash, 64))
                    .col(big_integer(RefreshToken::IssuedAt))
                    .col(big_integer(RefreshToken::ExpiresAt))
                    .col(big_integer_null(RefreshToken::SpentAt))
                    .col(big_integer_null(RefreshToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshToken::Table, RefreshToken::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_refresh_token_family", RefreshToken::Family),
            ("idx_refresh_token_account", RefreshToken::AccountId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RefreshToken::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RefreshToken::Table.into_iden(),
            UserCompanyHistory::Table.into_iden(),
            CompanyAdministrator::Table.into_iden(),
            Account::Table.into_iden(),
            Company::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Company {
    Table,
    Id,
    Name,
    NameKey,
    Description,
    IsActive,
    ParentCompanyId,
    HierarchyLevel,
    Settings,
    Balance,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Email,
    Username,
    Password,
    Role,
    CompanyId,
    IsActive,
    IsBlocked,
    LastActivity,
    PreferredLanguage,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CompanyAdministrator {
    Table,
    Id,
    CompanyId,
    UserId,
    Permissions,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserCompanyHistory {
    Table,
    Id,
    UserId,
    CompanyId,
    Action,
    BalanceAtTime,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    Id,
    AccountId,
    Family,
    TokenHash,
    IssuedAt,
    ExpiresAt,
    SpentAt,
    RevokedAt,
}
