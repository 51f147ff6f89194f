use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "checklist")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub current_version: i32,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    pub deleted_at: Option<TimeUnixTimestampMillis>,
    /// Bumped by every write; writes are conditional on the version they read.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
