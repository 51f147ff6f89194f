use sea_orm::entity::prelude::*;

/// A chat session; its subject is `subject` (`record` or `client_number`) with the key
/// column of that kind.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub company_id: Uuid,
    pub subject: String,
    pub record_id: Option<Uuid>,
    /// E.164.
    pub client_phone_number: Option<String>,
    pub questions_used: i32,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    pub deleted_at: Option<TimeUnixTimestampMillis>,
    /// Bumped by every write; writes are conditional on the version they read.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
