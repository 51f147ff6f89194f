use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "company")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub name_key: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub parent_company_id: Option<Uuid>,
    pub hierarchy_level: i32,
    pub settings: Json,
    pub balance: i64,
    /// Reserved for calls being processed; `balance - reserved` is available.
    pub reserved: i64,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    pub deleted_at: Option<TimeUnixTimestampMillis>,
    /// Bumped by every write; writes are conditional on the version they read.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
