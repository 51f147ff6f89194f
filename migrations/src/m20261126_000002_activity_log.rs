//! The activity log (append-only, hash-chained per company) and the head of each chain.

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
                    .table(ActivityLog::Table)
                    .col(pk_uuid(ActivityLog::Id))
                    .col(uuid(ActivityLog::ChainId))
                    .col(big_integer(ActivityLog::Seq))
                    .col(uuid_null(ActivityLog::UserId))
                    .col(uuid_null(ActivityLog::CompanyId))
                    .col(string_len(ActivityLog::Action, 32))
                    .col(string_len(ActivityLog::ResourceType, 64))
                    .col(string_len_null(ActivityLog::ResourceId, 128))
                    .col(json_binary(ActivityLog::Details))
                    .col(string_len_null(ActivityLog::IpAddress, 64))
                    .col(string_len_null(ActivityLog::UserAgent, 512))
                    .col(string_len_null(ActivityLog::RequestId, 128))
                    .col(big_integer(ActivityLog::CreatedAt))
                    .col(string_len(ActivityLog::PrevHash, 64))
                    .col(string_len(ActivityLog::Hash, 64))
                    .index(
                        Index::create()
                            .name("uq_activity_log_chain_seq")
                            .unique()
                            .col(ActivityLog::ChainId)
                            .col(ActivityLog::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &[ActivityLog]); 4] = [
            (
                "idx_activity_log_user_created",
                &[ActivityLog::UserId, ActivityLog::CreatedAt],
            ),
            ("idx_activity_log_created", &[ActivityLog::CreatedAt]),
            (
                "idx_activity_log_resource",
                &[
                    ActivityLog::ResourceType,
                    ActivityLog::ResourceId,
                    ActivityLog::CreatedAt,
                ],
            ),
            (
                "idx_activity_log_company_created",
                &[ActivityLog::CompanyId, ActivityLog::CreatedAt],
            ),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create();
            index.name(name).table(ActivityLog::Table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AuditChain::Table)
                    .col(pk_uuid(AuditChain::ChainId))
                    .col(big_integer(AuditChain::HeadSeq))
                    .col(string_len(AuditChain::HeadHash, 64))
                    .col(big_integer(AuditChain::AnchorSeq))
                    .col(string_len(AuditChain::AnchorHash, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditChain::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ActivityLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivityLog {
    Table,
    Id,
    ChainId,
    Seq,
    UserId,
    CompanyId,
    Action,
    ResourceType,
    ResourceId,
    Details,
    IpAddress,
    UserAgent,
    RequestId,
    CreatedAt,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChain {
    Table,
    ChainId,
    HeadSeq,
    HeadHash,
    AnchorSeq,
    AnchorHash,
}
