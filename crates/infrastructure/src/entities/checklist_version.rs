use sea_orm::entity::prelude::*;

/// One immutable version of a checklist's segments and items.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "checklist_version")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub checklist_id: Uuid,
    pub version: i32,
    /// `{"name", "segments"}` as they were in this version.
    pub content: Json,
    pub created_at: TimeUnixTimestampMillis,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
