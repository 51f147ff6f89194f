use async_trait::async_trait;
use dialix_chat::{
    ChatMessage, ChatRepository, ChatReservation, ChatSession, ChatSubject, MessageRole,
    QuestionSlot, TokenUsage,
};
use dialix_kernel::{
    AccountId, ChatMessageId, ChatSessionId, CompanyId, DomainError, DomainResult, Page,
    PageRequest, RecordId, RowVersion, Tx,
};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;

use crate::Database;
use crate::entities::{chat_message, chat_reservation, chat_session};
use crate::sql::{bump_version, conflict_on_unique, internal, landed, versioned};
use crate::transaction::db_tx;

/// The stored kind of a session about one record.
const RECORD_SUBJECT: &str = "record";
/// The stored kind of a session about a client number's calls.
const NUMBER_SUBJECT: &str = "client_number";

/// Chat sessions in `chat_session`, their messages in `chat_message`.
pub struct SeaOrmChats {
    db: Database,
}

impl SeaOrmChats {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ChatRepository for SeaOrmChats {
    async fn insert_session(&self, tx: &mut Tx, session: &ChatSession) -> DomainResult<()> {
        let (subject, record_id, client_phone_number) = match &session.subject {
            ChatSubject::Record(record) => (RECORD_SUBJECT, Some(record.as_uuid()), None),
            ChatSubject::ClientNumber(phone) => (NUMBER_SUBJECT, None, Some(phone.clone())),
        };
        chat_session::Entity::insert(chat_session::ActiveModel {
            id: Set(session.id.as_uuid()),
            owner_id: Set(session.owner_id.as_uuid()),
            company_id: Set(session.company_id.as_uuid()),
            subject: Set(subject.to_owned()),
            record_id: Set(record_id),
            client_phone_number: Set(client_phone_number),
            questions_used: Set(count(session.questions_used)?),
            created_at: Set(TimeUnixTimestampMillis(session.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(session.updated_at)),
            deleted_at: Set(None),
            row_version: Set(session.row_version.0),
        })
        .exec_without_returning(db_tx(tx)?)
        .await
        .map_err(internal)?;
        Ok(())
    }

    async fn find_session(&self, id: ChatSessionId) -> DomainResult<Option<ChatSession>> {
        chat_session::Entity::find_by_id(id.as_uuid())
            .filter(chat_session::Column::DeletedAt.is_null())
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_session)
            .transpose()
    }

    async fn sessions_of(
        &self,
        owner: AccountId,
        page: PageRequest,
    ) -> DomainResult<Page<ChatSession>> {
        let db = self.db.connection();
        let query = chat_session::Entity::find()
            .filter(chat_session::Column::OwnerId.eq(owner.as_uuid()))
            .filter(chat_session::Column::DeletedAt.is_null());
        let total = query.clone().count(db).await.map_err(internal)?;
        let rows = query
            .order_by_desc(chat_session::Column::CreatedAt)
            .order_by_desc(chat_session::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(db)
            .await
            .map_err(internal)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(to_session)
                .collect::<DomainResult<_>>()?,
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn messages(&self, session: ChatSessionId) -> DomainResult<Vec<ChatMessage>> {
        chat_message::Entity::find()
            .filter(chat_message::Column::SessionId.eq(session.as_uuid()))
            .order_by_asc(chat_message::Column::Seq)
            .all(self.db.connection())
            .await
            .map_err(internal)?
            .into_iter()
            .map(to_message)
            .collect()
    }

    async fn take_question(
        &self,
        tx: &mut Tx,
        session: ChatSessionId,
        max: u32,
        at: OffsetDateTime,
    ) -> DomainResult<QuestionSlot> {
        let txn = db_tx(tx)?;
        // The condition and the count are one statement: a racing request waits for this
        // row (PostgreSQL's row lock, SQLite's single writer) and then finds it used up.
        let taken = bump_version(
            chat_session::Entity::update_many(),
            chat_session::Column::RowVersion,
        )
        .col_expr(
            chat_session::Column::QuestionsUsed,
            Expr::col(chat_session::Column::QuestionsUsed).add(1),
        )
        .col_expr(
            chat_session::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(at)),
        )
        .filter(chat_session::Column::Id.eq(session.as_uuid()))
        .filter(chat_session::Column::DeletedAt.is_null())
        .filter(chat_session::Column::QuestionsUsed.lt(count(max)?))
        .exec(txn)
        .await
        .map_err(internal)?;
        let row: Option<(i32, Option<i64>)> = chat_session::Entity::find_by_id(session.as_uuid())
            .select_only()
            .column(chat_session::Column::QuestionsUsed)
            .column(chat_session::Column::DeletedAt)
            .into_tuple()
            .one(txn)
            .await
            .map_err(internal)?;
        Ok(match (taken.rows_affected, row) {
            (1, Some((used, _))) => QuestionSlot::Taken {
                number: u32::try_from(used).map_err(DomainError::internal)?,
            },
            (_, Some((_, None))) => QuestionSlot::LimitReached,
            _ => QuestionSlot::Gone,
        })
    }

    async fn insert_messages(&self, tx: &mut Tx, messages: &[ChatMessage]) -> DomainResult<()> {
        let rows = messages
            .iter()
            .map(|m| {
                Ok(chat_message::ActiveModel {
                    id: Set(m.id.as_uuid()),
                    session_id: Set(m.session_id.as_uuid()),
                    seq: Set(count(m.seq)?),
                    role: Set(m.role.as_str().to_owned()),
                    content: Set(m.content.clone()),
                    citations: Set(serde_json::to_value(&m.citations)
                        .map_err(|e| DomainError::internal(format!("citations: {e}")))?),
                    prompt_tokens: Set(m.usage.map(|u| tokens(u.prompt_tokens))),
                    completion_tokens: Set(m.usage.map(|u| tokens(u.completion_tokens))),
                    created_at: Set(TimeUnixTimestampMillis(m.created_at)),
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        chat_message::Entity::insert_many(rows)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| {
                conflict_on_unique(e, "message", "this place of the session is already taken")
            })?;
        Ok(())
    }

    async fn delete_session(
        &self,
        tx: &mut Tx,
        session: &mut ChatSession,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        let result = versioned(
            chat_session::Entity::update_many(),
            chat_session::Column::RowVersion,
            session.row_version,
        )
        .col_expr(
            chat_session::Column::DeletedAt,
            Expr::value(Some(TimeUnixTimestampMillis(at))),
        )
        .col_expr(
            chat_session::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(at)),
        )
        .filter(chat_session::Column::Id.eq(session.id.as_uuid()))
        .filter(chat_session::Column::DeletedAt.is_null())
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        landed(result, "chat session")?;
        session.row_version = session.row_version.next();
        session.deleted_at = Some(at);
        session.updated_at = at;
        Ok(())
    }

    async fn insert_reservation(
        &self,
        tx: &mut Tx,
        reservation: &ChatReservation,
    ) -> DomainResult<()> {
        chat_reservation::Entity::insert(chat_reservation::ActiveModel {
            id: Set(reservation.id.as_uuid()),
            company_id: Set(reservation.company_id.as_uuid()),
            amount: Set(reservation.amount),
            created_at: Set(TimeUnixTimestampMillis(reservation.created_at)),
        })
        .exec_without_returning(db_tx(tx)?)
        .await
        .map_err(internal)?;
        Ok(())
    }

    async fn delete_reservation(&self, tx: &mut Tx, id: ChatMessageId) -> DomainResult<bool> {
        let deleted = chat_reservation::Entity::delete_by_id(id.as_uuid())
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(deleted.rows_affected == 1)
    }

    async fn reservations_before(
        &self,
        before: OffsetDateTime,
    ) -> DomainResult<Vec<ChatReservation>> {
        let rows = chat_reservation::Entity::find()
            .filter(chat_reservation::Column::CreatedAt.lt(TimeUnixTimestampMillis(before)))
            .order_by_asc(chat_reservation::Column::CreatedAt)
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|row| ChatReservation {
                id: ChatMessageId::from_uuid(row.id),
                company_id: CompanyId::from_uuid(row.company_id),
                amount: row.amount,
                created_at: row.created_at.0,
            })
            .collect())
    }
}

fn to_session(row: chat_session::Model) -> DomainResult<ChatSession> {
    let subject = match (row.subject.as_str(), row.record_id, row.client_phone_number) {
        (RECORD_SUBJECT, Some(record), _) => ChatSubject::Record(RecordId::from_uuid(record)),
        (NUMBER_SUBJECT, _, Some(phone)) => ChatSubject::ClientNumber(phone),
        (kind, _, _) => {
            return Err(DomainError::internal(format!(
                "chat session {}: unknown subject {kind:?}",
                row.id
            )));
        }
    };
    Ok(ChatSession {
        id: ChatSessionId::from_uuid(row.id),
        owner_id: AccountId::from_uuid(row.owner_id),
        company_id: CompanyId::from_uuid(row.company_id),
        subject,
        questions_used: u32::try_from(row.questions_used).map_err(DomainError::internal)?,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        deleted_at: row.deleted_at.map(|at| at.0),
        row_version: RowVersion(row.row_version),
    })
}

fn to_message(row: chat_message::Model) -> DomainResult<ChatMessage> {
    let role = MessageRole::parse(&row.role).ok_or_else(|| {
        DomainError::internal(format!("chat message {}: role {:?}", row.id, row.role))
    })?;
    let usage = match (row.prompt_tokens, row.completion_tokens) {
        (Some(prompt), Some(completion)) => Some(TokenUsage {
            prompt_tokens: u64::try_from(prompt).unwrap_or_default(),
            completion_tokens: u64::try_from(completion).unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(ChatMessage {
        id: ChatMessageId::from_uuid(row.id),
        session_id: ChatSessionId::from_uuid(row.session_id),
        seq: u32::try_from(row.seq).map_err(DomainError::internal)?,
        role,
        content: row.content,
        citations: serde_json::from_value(row.citations)
            .map_err(|e| DomainError::internal(format!("chat message {}: {e}", row.id)))?,
        usage,
        created_at: row.created_at.0,
    })
}

/// A count as its integer column stores it.
fn count(value: u32) -> DomainResult<i32> {
    i32::try_from(value).map_err(DomainError::internal)
}

/// Token counts beyond `i64` do not occur; they are stored saturated.
fn tokens(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
