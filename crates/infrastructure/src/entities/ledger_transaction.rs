use sea_orm::entity::prelude::*;

/// The balance ledger (the seed's `transaction` table).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "transaction")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub idempotency_key: Option<String>,
    pub created_at: TimeUnixTimestampMillis,
    /// What a charge paid for: `speech_to_text`, `general_analysis`, `checklist` or `chat`.
    pub charge_item: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
