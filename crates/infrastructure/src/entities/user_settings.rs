use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "user_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub user_id: Uuid,
    pub email_notifications: bool,
    pub sms_notifications: bool,
    pub push_notifications: bool,
    pub language: String,
    pub timezone: String,
    pub auto_delete_records_after_days: Option<i32>,
    pub preferred_stt_model: String,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    /// Bumped by every write; writes are conditional on the version they read.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
