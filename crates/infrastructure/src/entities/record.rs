use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "record")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub company_id: Uuid,
    pub operator_code: Option<String>,
    pub client_phone_number: Option<String>,
    pub call_type: Option<String>,
    pub call_started_at: Option<TimeUnixTimestampMillis>,
    pub duration_ms: i64,
    pub status: String,
    pub general: bool,
    pub original_filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: Option<String>,
    /// Transcript and analysis (later).
    pub payload: Option<Json>,
    pub error: Option<String>,
    pub reserved_amount: i64,
    /// The conversation sentiment, promoted from the analysis for filtering.
    pub sentiment: Option<String>,
    /// The transcript as plain text, indexed for `transcript_contains` (migration 11).
    pub transcript_text: Option<String>,
    pub processing_round: i32,
    pub checklist_id: Option<Uuid>,
    pub checklist_version: Option<i32>,
    pub created_at: TimeUnixTimestampMillis,
    pub updated_at: TimeUnixTimestampMillis,
    pub deleted_at: Option<TimeUnixTimestampMillis>,
    /// Bumped by every write; writes are conditional on the version they read.
    pub row_version: i64,
    /// When the call happened: `call_started_at` when known, else `created_at`.
    pub call_at: TimeUnixTimestampMillis,
    /// Promoted from the general analysis for grouping and similar calls.
    pub call_purpose: Option<String>,
    pub customer_satisfied: Option<bool>,
    pub key_words: Option<Json>,
    /// The checklist score (0–100) and whether the call passed (migration 19).
    pub checklist_score: Option<f64>,
    pub checklist_compliant: Option<bool>,
    /// The client's and the operator's sentiment, promoted beside `sentiment` for the
    /// dashboard's distributions (migration 19).
    pub sentiment_client: Option<String>,
    pub sentiment_operator: Option<String>,
    /// The OnlinePBX call an imported record came from; unique per company (migration 21).
    pub pbx_call_id: Option<String>,
    /// The CRM lookup's result (`dialix_calls::CrmLookup` as JSON).
    pub crm: Option<Json>,
    /// The client's name from `crm`, promoted for the grouped-calls view.
    pub customer_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
