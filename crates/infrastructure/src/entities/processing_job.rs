use sea_orm::entity::prelude::*;

/// One record's processing, as a durable queue entry.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "processing_job")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub record_id: Uuid,
    /// `pending`, `done` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub available_at: TimeUnixTimestampMillis,
    pub locked_by: Option<String>,
    pub locked_until: Option<TimeUnixTimestampMillis>,
    pub last_error: Option<String>,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
