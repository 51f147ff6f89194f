use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    #[sea_orm(unique)]
    pub username: String,
    /// The argon2id PHC string (the seed's column name).
    pub password: String,
    pub role: String,
    pub company_id: Option<Uuid>,
    pub is_active: bool,
    pub is_blocked: bool,
    pub last_activity: Option<TimeUnixTimestampMillis>,
    pub preferred_language: String,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    /// Set when the block of this company (or an ancestor) blocked the account, so that
    /// unblocking the company restores exactly these accounts.
    pub blocked_by_company: Option<Uuid>,
    pub deleted_at: Option<TimeUnixTimestampMillis>,
    /// Bumped by every write; writes are conditional on the version they read.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
