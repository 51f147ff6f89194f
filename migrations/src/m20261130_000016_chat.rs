//! AI chat about calls: sessions (one user's questions about a subject, with a count of the
//! questions used) and their messages. A session's subject is a kind plus its key, so that
//! sessions about other subjects (a client number's calls) add a column, not a new table.
//! Deleted sessions keep their rows (`deleted_at`): the messages' token counts feed the usage
//! statistics.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The owner's live sessions, newest first (`GET /chat/sessions`).
const OWNER_INDEX: &str = "idx_chat_session_owner_live";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatSession::Table)
                    .col(pk_uuid(ChatSession::Id))
                    .col(uuid(ChatSession::OwnerId))
                    .col(uuid(ChatSession::CompanyId))
                    .col(string_len(ChatSession::Subject, 16))
                    .col(uuid_null(ChatSession::RecordId))
                    .col(integer(ChatSession::QuestionsUsed))
                    .col(big_integer(ChatSession::CreatedAt))
                    .col(big_integer(ChatSession::UpdatedAt))
                    .col(big_integer_null(ChatSession::DeletedAt))
                    .col(big_integer(ChatSession::RowVersion).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatSession::Table, ChatSession::OwnerId)
                            .to(Account::Table, Account::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatSession::Table, ChatSession::CompanyId)
                            .to(Company::Table, Company::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatSession::Table, ChatSession::RecordId)
                            .to(Record::Table, Record::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Partial-index syntax is the same on both databases.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {OWNER_INDEX} ON chat_session (owner_id, created_at, id) \
                 WHERE deleted_at IS NULL"
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChatMessage::Table)
                    .col(pk_uuid(ChatMessage::Id))
                    .col(uuid(ChatMessage::SessionId))
                    .col(integer(ChatMessage::Seq))
                    .col(string_len(ChatMessage::Role, 16))
                    .col(text(ChatMessage::Content))
                    .col(json_binary(ChatMessage::Citations))
                    .col(big_integer_null(ChatMessage::PromptTokens))
                    .col(big_integer_null(ChatMessage::CompletionTokens))
                    .col(big_integer(ChatMessage::CreatedAt))
                    // A session's messages in order, and one message per place: a question's
                    // number is taken once.
                    .index(
                        Index::create()
                            .name("uq_chat_message_session_seq")
                            .unique()
                            .col(ChatMessage::SessionId)
                            .col(ChatMessage::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChatMessage::Table, ChatMessage::SessionId)
                            .to(ChatSession::Table, ChatSession::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChatMessage::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OWNER_INDEX)
                    .table(ChatSession::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ChatSession::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatSession {
    Table,
    Id,
    OwnerId,
    CompanyId,
    Subject,
    RecordId,
    QuestionsUsed,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    RowVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatMessage {
    Table,
    Id,
    SessionId,
    Seq,
    Role,
    Content,
    Citations,
    PromptTokens,
    CompletionTokens,
    CreatedAt,
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

#[derive(DeriveIden)]
enum Record {
    Table,
    Id,
}
