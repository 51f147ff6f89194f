use sea_orm::entity::prelude::*;

/// One checklist item's verdict on a scored call (migration 19), written with the record's
/// checklist result; the call's company and time are copied in for range scans.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "checklist_verdict")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: String,
    pub company_id: Uuid,
    pub checklist_id: Uuid,
    pub checklist_version: i32,
    pub critical: bool,
    /// `None`: the item did not apply to the call.
    pub passed: Option<bool>,
    pub evidence: String,
    pub at_ms: Option<i64>,
    pub call_at: TimeUnixTimestampMillis,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
