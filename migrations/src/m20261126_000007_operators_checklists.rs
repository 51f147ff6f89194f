//! Operators and versioned checklists per company; records remember the checklist version
//! they were scored with.

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
                    .table(Checklist::Table)
                    .col(pk_uuid(Checklist::Id))
                    .col(uuid(Checklist::CompanyId))
                    .col(string_len(Checklist::Name, 200))
                    .col(integer(Checklist::CurrentVersion))
                    .col(big_integer(Checklist::CreatedAt))
                    .col(big_integer(Checklist::UpdatedAt))
                    .col(big_integer_null(Checklist::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Checklist::Table, Checklist::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_checklist_company")
                    .table(Checklist::Table)
                    .col(Checklist::CompanyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChecklistVersion::Table)
                    .col(pk_uuid(ChecklistVersion::Id))
                    .col(uuid(ChecklistVersion::ChecklistId))
                    .col(integer(ChecklistVersion::Version))
                    .col(json_binary(ChecklistVersion::Content))
                    .col(big_integer(ChecklistVersion::CreatedAt))
                    .index(
                        Index::create()
                            .name("uq_checklist_version")
                            .unique()
                            .col(ChecklistVersion::ChecklistId)
                            .col(ChecklistVersion::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChecklistVersion::Table, ChecklistVersion::ChecklistId)
                            .to(Checklist::Table, Checklist::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Operator::Table)
                    .col(pk_uuid(Operator::Id))
                    .col(uuid(Operator::CompanyId))
                    .col(string_len(Operator::Code, 32))
                    .col(string_len(Operator::Name, 200))
                    .col(boolean(Operator::IsActive))
                    .col(uuid_null(Operator::ChecklistId))
                    .col(big_integer(Operator::CreatedAt))
                    .col(big_integer(Operator::UpdatedAt))
                    .index(
                        Index::create()
                            .name("uq_operator_company_code")
                            .unique()
                            .col(Operator::CompanyId)
                            .col(Operator::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Operator::Table, Operator::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Operator::Table, Operator::ChecklistId)
                            .to(Checklist::Table, Checklist::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [
            uuid_null(Record::ChecklistId),
            integer_null(Record::ChecklistVersion),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Record::ChecklistVersion, Record::ChecklistId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Record::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            Operator::Table.into_iden(),
            ChecklistVersion::Table.into_iden(),
            Checklist::Table.into_iden(),
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
}

#[derive(DeriveIden)]
enum Record {
    Table,
    ChecklistId,
    ChecklistVersion,
}

#[derive(DeriveIden)]
enum Checklist {
    Table,
    Id,
    CompanyId,
    Name,
    CurrentVersion,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum ChecklistVersion {
    Table,
    Id,
    ChecklistId,
    Version,
    /// `{"name", "segments"}` as they were in this version.
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Operator {
    Table,
    Id,
    CompanyId,
    Code,
    Name,
    IsActive,
    ChecklistId,
    CreatedAt,
    UpdatedAt,
}
