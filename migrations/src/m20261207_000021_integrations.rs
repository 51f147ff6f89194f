//! Integrations: a company's connections to OnlinePBX and Bitrix24, its automatic call
//! import, and what the records keep of them.
//!
//! - `integration`: one connection per company and service (`kind`), its secret sealed by
//!   the application (never stored in the clear) and a hint of it for display.
//! - `pbx_auto_import`: a company's automatic import from its PBX and where it stands;
//!   workers find due imports by `(enabled, next_run_at)`.
//! - `record.pbx_call_id`: the PBX call an imported record came from, unique per company so a
//!   call is imported once (uploaded records have none, and NULLs never collide);
//!   `record.crm`: the CRM lookup's result; `record.customer_name`: the client's name from
//!   it, promoted for the grouped-calls view.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DUE_INDEX: &str = "idx_pbx_auto_import_enabled_next_run_at";
const PBX_CALL_INDEX: &str = "uq_record_company_pbx_call_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Integration::Table)
                    .col(uuid(Integration::CompanyId))
                    .col(string_len(Integration::Kind, 16))
                    .col(string_len(Integration::Label, 255))
                    .col(blob(Integration::SealedSecret))
                    .col(string_len(Integration::SecretHint, 32))
                    .col(uuid(Integration::UpdatedBy))
                    .col(big_integer(Integration::CreatedAt))
                    .col(big_integer(Integration::UpdatedAt))
                    .col(big_integer(Integration::RowVersion).default(1))
                    .primary_key(
                        Index::create()
                            .col(Integration::CompanyId)
                            .col(Integration::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Integration::Table, Integration::CompanyId)
                            .to(Company::Table, Company::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PbxAutoImport::Table)
                    .col(pk_uuid(PbxAutoImport::CompanyId))
                    .col(boolean(PbxAutoImport::Enabled))
                    .col(integer(PbxAutoImport::IntervalMinutes))
                    .col(integer(PbxAutoImport::MinTalkSeconds))
                    .col(boolean(PbxAutoImport::General))
                    .col(uuid_null(PbxAutoImport::ChecklistId))
                    .col(uuid(PbxAutoImport::OwnerId))
                    .col(big_integer(PbxAutoImport::ImportFrom))
                    .col(big_integer(PbxAutoImport::ImportedUntil))
                    .col(big_integer(PbxAutoImport::NextRunAt))
                    .col(json_binary_null(PbxAutoImport::LastRun))
                    .col(big_integer(PbxAutoImport::UpdatedAt))
                    .col(big_integer(PbxAutoImport::RowVersion).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PbxAutoImport::Table, PbxAutoImport::CompanyId)
                            .to(Company::Table, Company::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(DUE_INDEX)
                    .table(PbxAutoImport::Table)
                    .col(PbxAutoImport::Enabled)
                    .col(PbxAutoImport::NextRunAt)
                    .to_owned(),
            )
            .await?;
        // One column per ALTER: SQLite cannot add several at once.
        for column in [
            string_len_null(Record::PbxCallId, 64),
            json_binary_null(Record::Crm),
            string_len_null(Record::CustomerName, 255),
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
                    .name(PBX_CALL_INDEX)
                    .table(Record::Table)
                    .unique()
                    .col(Record::CompanyId)
                    .col(Record::PbxCallId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(PBX_CALL_INDEX)
                    .table(Record::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Record::CustomerName, Record::Crm, Record::PbxCallId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Record::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(DUE_INDEX)
                    .table(PbxAutoImport::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PbxAutoImport::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Integration::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Integration {
    Table,
    CompanyId,
    Kind,
    Label,
    SealedSecret,
    SecretHint,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    RowVersion,
}

#[derive(DeriveIden)]
enum PbxAutoImport {
    Table,
    CompanyId,
    Enabled,
    IntervalMinutes,
    MinTalkSeconds,
    General,
    ChecklistId,
    OwnerId,
    ImportFrom,
    ImportedUntil,
    NextRunAt,
    LastRun,
    UpdatedAt,
    RowVersion,
}

#[derive(DeriveIden)]
enum Company {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Record {
    Table,
    CompanyId,
    PbxCallId,
    Crm,
    CustomerName,
}
