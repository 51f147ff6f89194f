use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pbx_auto_import")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: Uuid,
    pub enabled: bool,
    pub interval_minutes: i32,
    pub min_talk_seconds: i32,
    pub general: bool,
    pub checklist_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub import_from: TimeUnixTimestampMillis,
    pub imported_until: TimeUnixTimestampMillis,
    pub next_run_at: TimeUnixTimestampMillis,
    /// What the last run did (see `integrations/auto_imports.rs`).
    pub last_run: Option<Json>,
    pub updated_at: TimeUnixTimestampMillis,
    /// Bumped by every write, claims included; writes are conditional on the version they
    /// read.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
