use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "integration")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: Uuid,
    /// `pbx` or `bitrix`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub label: String,
    /// The secret as the secret box sealed it: nonce, ciphertext and tag.
    pub sealed_secret: Vec<u8>,
    pub secret_hint: String,
    pub updated_by: Uuid,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    /// Bumped by every write.
    pub row_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
