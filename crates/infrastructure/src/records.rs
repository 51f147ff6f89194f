use async_trait::async_trait;
use dialix_calls::{
    AudioFormat, CallType, CrmLookup, EXACT_TOTAL_LIMIT, PhoneSearch, Record, RecordChange,
    RecordFilter, RecordOrder, RecordPage, RecordRepository, RecordScope, RecordStatus,
    TranscriptQuery,
};
use dialix_kernel::{
    AccountId, ChecklistId, CompanyId, DomainError, DomainResult, Page, PageRequest, RecordId,
    RowVersion, Tx,
};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::{Alias, ExprTrait, JoinType, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};
use time::OffsetDateTime;

use crate::Database;
use crate::entities::{checklist_verdict, record};
use crate::sql::{conflict_on_unique, internal, landed, like_pattern, versioned};
use crate::transaction::db_tx;

/// Records in the `record` table.
pub struct SeaOrmRecords {
    db: Database,
}

impl SeaOrmRecords {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RecordRepository for SeaOrmRecords {
    async fn insert(&self, tx: &mut Tx, r: &Record) -> DomainResult<()> {
        let row = record::ActiveModel {
            id: Set(r.id.as_uuid()),
            owner_id: Set(r.owner_id.as_uuid()),
            company_id: Set(r.company_id.as_uuid()),
            operator_code: Set(r.operator_code.clone()),
            client_phone_number: Set(r.client_phone_number.clone()),
            call_type: Set(r.call_type.map(|c| c.as_str().to_owned())),
            call_started_at: Set(r.call_started_at.map(TimeUnixTimestampMillis)),
            duration_ms: Set(r.duration_ms as i64),
            status: Set(r.status.as_str().to_owned()),
            general: Set(r.general),
            original_filename: Set(r.original_filename.clone()),
            content_type: Set(r.content_type.mime().to_owned()),
            size_bytes: Set(r.size_bytes as i64),
            storage_key: Set(r.storage_key.clone()),
            payload: Set(Some(payload_json(r)?)),
            error: Set(r.error.clone()),
            reserved_amount: Set(r.reserved_amount),
            sentiment: Set(sentiment(r).map(str::to_owned)),
            transcript_text: Set(transcript_text(r)),
            processing_round: Set(round(r)),
            checklist_id: Set(r.checklist_id.map(|c| c.as_uuid())),
            checklist_version: Set(r.checklist_version.map(|v| v as i32)),
            created_at: Set(TimeUnixTimestampMillis(r.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(r.updated_at)),
            deleted_at: Set(None),
            row_version: Set(r.row_version.0),
            call_at: Set(TimeUnixTimestampMillis(r.call_at())),
            call_purpose: Set(call_purpose(r)),
            customer_satisfied: Set(customer_satisfied(r)),
            key_words: Set(key_words(r)),
            checklist_score: Set(checklist_score(r)),
            checklist_compliant: Set(checklist_compliant(r)),
            sentiment_client: Set(sentiment_client(r).map(str::to_owned)),
            sentiment_operator: Set(sentiment_operator(r).map(str::to_owned)),
            pbx_call_id: Set(r.pbx_call_id.clone()),
            crm: Set(crm_json(r)?),
            customer_name: Set(customer_name(r)),
        };
        // The only unique key an insert can break besides the fresh id: one record per PBX
        // call and company.
        record::Entity::insert(row)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| {
                conflict_on_unique(e, "pbx_call_id", "the call has been imported already")
            })?;
        Ok(())
    }

    async fn find(&self, id: RecordId) -> DomainResult<Option<Record>> {
        record::Entity::find_by_id(id.as_uuid())
            .filter(record::Column::DeletedAt.is_null())
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn list(&self, filter: &RecordFilter, page: PageRequest) -> DomainResult<RecordPage> {
        let db = self.db.connection();
        let backend = db.get_database_backend();
        let live = record::Entity::find().filter(record::Column::DeletedAt.is_null());
        let mut query = in_scope(&self.db, live, &filter.scope).await?;
        if let Some(status) = filter.status {
            query = query.filter(record::Column::Status.eq(status.as_str()));
        }
        if let Some(code) = &filter.operator_code {
            query = query.filter(record::Column::OperatorCode.eq(code.as_str()));
        }
        if let Some(call_type) = filter.call_type {
            query = query.filter(record::Column::CallType.eq(call_type.as_str()));
        }
        match &filter.phone {
            Some(PhoneSearch::Exact(number)) => {
                query = query.filter(record::Column::ClientPhoneNumber.eq(number.as_str()));
            }
            Some(PhoneSearch::Partial(digits)) => {
                query = query.filter(
                    Expr::col(record::Column::ClientPhoneNumber).like(like_pattern(digits)),
                );
            }
            None => {}
        }
        if let Some(checklist) = filter.checklist_id {
            query = query.filter(record::Column::ChecklistId.eq(checklist.as_uuid()));
        }
        if let Some(sentiment) = &filter.sentiment {
            query = query.filter(record::Column::Sentiment.eq(sentiment.as_str()));
        }
        let search = filter
            .transcript
            .as_ref()
            .map(|words| TranscriptSearch::new(backend, words));
        if let Some(search) = &search {
            search.restrict(QueryTrait::query(&mut query));
        }
        if let Some(from) = filter.created_from {
            query = query.filter(record::Column::CreatedAt.gte(TimeUnixTimestampMillis(from)));
        }
        if let Some(to) = filter.created_to {
            query = query.filter(record::Column::CreatedAt.lte(TimeUnixTimestampMillis(to)));
        }
        if let (RecordOrder::Relevance, Some(search)) = (filter.order, &search) {
            return ranked_page(db, query, search, page).await;
        }
        let total = bounded_count(db, &query).await?;
        let query = match filter.order {
            RecordOrder::OldestFirst => query
                .order_by_asc(record::Column::CreatedAt)
                .order_by_asc(record::Column::Id),
            RecordOrder::NewestFirst | RecordOrder::Relevance => query
                .order_by_desc(record::Column::CreatedAt)
                .order_by_desc(record::Column::Id),
        };
        let rows = query
            .limit(page.limit)
            .offset(page.offset)
            .all(db)
            .await
            .map_err(internal)?;
        listed(rows, total, page)
    }

    async fn changed_since(
        &self,
        scope: &RecordScope,
        since: OffsetDateTime,
        limit: u64,
    ) -> DomainResult<Vec<RecordChange>> {
        let live = record::Entity::find()
            .select_only()
            .columns([
                record::Column::Id,
                record::Column::Status,
                record::Column::Error,
                record::Column::UpdatedAt,
            ])
            .filter(record::Column::DeletedAt.is_null())
            .filter(record::Column::UpdatedAt.gte(TimeUnixTimestampMillis(since)));
        let rows: Vec<(uuid::Uuid, String, Option<String>, TimeUnixTimestampMillis)> =
            in_scope(&self.db, live, scope)
                .await?
                .order_by_asc(record::Column::UpdatedAt)
                .order_by_asc(record::Column::Id)
                .limit(limit)
                .into_tuple()
                .all(self.db.connection())
                .await
                .map_err(internal)?;
        rows.into_iter()
            .map(|(id, status, error, updated_at)| {
                Ok(RecordChange {
                    id: RecordId::from_uuid(id),
                    status: parse_status(id, &status)?,
                    error,
                    updated_at: updated_at.0,
                })
            })
            .collect()
    }

    async fn update(&self, tx: &mut Tx, r: &mut Record) -> DomainResult<()> {
        let result = versioned(
            record::Entity::update_many(),
            record::Column::RowVersion,
            r.row_version,
        )
        .col_expr(record::Column::Status, Expr::value(r.status.as_str()))
        .col_expr(record::Column::Payload, Expr::value(Some(payload_json(r)?)))
        .col_expr(record::Column::Error, Expr::value(r.error.clone()))
        .col_expr(
            record::Column::ReservedAmount,
            Expr::value(r.reserved_amount),
        )
        .col_expr(record::Column::Sentiment, Expr::value(sentiment(r)))
        .col_expr(
            record::Column::SentimentClient,
            Expr::value(sentiment_client(r)),
        )
        .col_expr(
            record::Column::SentimentOperator,
            Expr::value(sentiment_operator(r)),
        )
        .col_expr(
            record::Column::TranscriptText,
            Expr::value(transcript_text(r)),
        )
        .col_expr(record::Column::ProcessingRound, Expr::value(round(r)))
        .col_expr(record::Column::CallPurpose, Expr::value(call_purpose(r)))
        .col_expr(
            record::Column::CustomerSatisfied,
            Expr::value(customer_satisfied(r)),
        )
        .col_expr(record::Column::KeyWords, Expr::value(key_words(r)))
        .col_expr(
            record::Column::ChecklistScore,
            Expr::value(checklist_score(r)),
        )
        .col_expr(
            record::Column::ChecklistCompliant,
            Expr::value(checklist_compliant(r)),
        )
        .col_expr(
            record::Column::StorageKey,
            Expr::value(r.storage_key.clone()),
        )
        .col_expr(record::Column::General, Expr::value(r.general))
        // An imported call's audio, once downloaded, and its measured figures.
        .col_expr(
            record::Column::DurationMs,
            Expr::value(r.duration_ms as i64),
        )
        .col_expr(record::Column::SizeBytes, Expr::value(r.size_bytes as i64))
        .col_expr(
            record::Column::ContentType,
            Expr::value(r.content_type.mime()),
        )
        .col_expr(
            record::Column::OriginalFilename,
            Expr::value(r.original_filename.clone()),
        )
        .col_expr(record::Column::Crm, Expr::value(crm_json(r)?))
        .col_expr(record::Column::CustomerName, Expr::value(customer_name(r)))
        .col_expr(
            record::Column::ChecklistId,
            Expr::value(r.checklist_id.map(|c| c.as_uuid())),
        )
        .col_expr(
            record::Column::ChecklistVersion,
            Expr::value(r.checklist_version.map(|v| v as i32)),
        )
        .col_expr(
            record::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(r.updated_at)),
        )
        .filter(record::Column::Id.eq(r.id.as_uuid()))
        .filter(record::Column::DeletedAt.is_null())
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        landed(result, "record")?;
        write_verdicts(tx, r).await?;
        r.row_version = r.row_version.next();
        Ok(())
    }

    async fn referenced_keys(&self, keys: &[String]) -> DomainResult<Vec<String>> {
        let mut referenced = Vec::new();
        // Bounded IN lists: SQLite caps bound parameters per statement.
        for chunk in keys.chunks(500) {
            let found: Vec<Option<String>> = record::Entity::find()
                .select_only()
                .column(record::Column::StorageKey)
                .filter(record::Column::StorageKey.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(self.db.connection())
                .await
                .map_err(internal)?;
            referenced.extend(found.into_iter().flatten());
        }
        Ok(referenced)
    }

    async fn imported_pbx_calls(
        &self,
        company: CompanyId,
        pbx_call_ids: &[String],
    ) -> DomainResult<Vec<(String, RecordId)>> {
        let mut imported = Vec::new();
        // Deleted records count too: a call once imported is never imported again.
        for chunk in pbx_call_ids.chunks(500) {
            let found: Vec<(Option<String>, uuid::Uuid)> = record::Entity::find()
                .select_only()
                .columns([record::Column::PbxCallId, record::Column::Id])
                .filter(record::Column::CompanyId.eq(company.as_uuid()))
                .filter(record::Column::PbxCallId.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(self.db.connection())
                .await
                .map_err(internal)?;
            imported.extend(
                found
                    .into_iter()
                    .filter_map(|(call, id)| Some((call?, RecordId::from_uuid(id)))),
            );
        }
        Ok(imported)
    }

    async fn mark_deleted(
        &self,
        tx: &mut Tx,
        r: &mut Record,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        let result = versioned(
            record::Entity::update_many(),
            record::Column::RowVersion,
            r.row_version,
        )
        .col_expr(
            record::Column::DeletedAt,
            Expr::value(Some(TimeUnixTimestampMillis(at))),
        )
        .col_expr(
            record::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(at)),
        )
        .col_expr(
            record::Column::StorageKey,
            Expr::value(Option::<String>::None),
        )
        .col_expr(record::Column::ReservedAmount, Expr::value(0i64))
        .filter(record::Column::Id.eq(r.id.as_uuid()))
        .filter(record::Column::DeletedAt.is_null())
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        landed(result, "record")?;
        r.row_version = r.row_version.next();
        r.deleted_at = Some(at);
        r.storage_key = None;
        r.reserved_amount = 0;
        Ok(())
    }
}

/// Relevance order must read every match to rank it, so the same pass counts them (a window
/// count), and the page's full rows are then read by id.
async fn ranked_page(
    db: &DatabaseConnection,
    query: Select<record::Entity>,
    search: &TranscriptSearch,
    page: PageRequest,
) -> DomainResult<RecordPage> {
    let ranked: Vec<(uuid::Uuid, i64)> = search
        .rank_first(
            query
                .clone()
                .select_only()
                .column(record::Column::Id)
                .expr_as(Expr::cust("COUNT(*) OVER ()"), "matches"),
        )
        .order_by_desc(record::Column::CreatedAt)
        .order_by_desc(record::Column::Id)
        .limit(page.limit)
        .offset(page.offset)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)?;
    let total = match ranked.first() {
        Some((_, matches)) => u64::try_from(*matches).unwrap_or(0),
        // A page past the last match: count them the usual way.
        None => bounded_count(db, &query).await?,
    };
    let ids: Vec<uuid::Uuid> = ranked.iter().map(|(id, _)| *id).collect();
    let mut rows = record::Entity::find()
        .filter(record::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
        .map_err(internal)?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    listed(rows, total, page)
}

fn listed(rows: Vec<record::Model>, total: u64, page: PageRequest) -> DomainResult<RecordPage> {
    Ok(RecordPage {
        page: Page {
            items: rows
                .into_iter()
                .map(to_domain)
                .collect::<DomainResult<_>>()?,
            total: std::cmp::min(total, EXACT_TOTAL_LIMIT),
            limit: page.limit,
            offset: page.offset,
        },
        total_is_exact: total <= EXACT_TOTAL_LIMIT,
    })
}

/// Counts the matches up to one past [`EXACT_TOTAL_LIMIT`]: the listing's count stops there
/// instead of walking a company's whole history.
async fn bounded_count(
    db: &DatabaseConnection,
    query: &Select<record::Entity>,
) -> DomainResult<u64> {
    let mut matches = query.clone().select_only().column(record::Column::Id);
    QueryTrait::query(&mut matches).limit(EXACT_TOTAL_LIMIT + 1);
    let count = SelectStatement::new()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("matches"))
        .from_subquery(QueryTrait::into_query(matches), Alias::new("bounded"))
        .to_owned();
    let row = db
        .query_one(&count)
        .await
        .map_err(internal)?
        .ok_or_else(|| DomainError::internal("COUNT returned no row"))?;
    let matches: i64 = row.try_get("", "matches").map_err(internal)?;
    Ok(u64::try_from(matches).unwrap_or(0))
}

/// Full-text search of transcripts: PostgreSQL's `transcript_search` tsvector (GIN index),
/// SQLite's FTS5 table `record_transcript_fts` (see migration 11). Each query word matches
/// a transcript word starting with it, and the words must follow each other.
enum TranscriptSearch {
    Postgres(String),
    Sqlite(String),
}

impl TranscriptSearch {
    fn new(backend: DatabaseBackend, query: &TranscriptQuery) -> Self {
        match backend {
            DatabaseBackend::Postgres => Self::Postgres(
                query
                    .words()
                    .iter()
                    .map(|word| format!("{word}:*"))
                    .collect::<Vec<_>>()
                    .join(" <-> "),
            ),
            // Words are letters and digits only, so quoting them needs no escaping.
            _ => Self::Sqlite(
                query
                    .words()
                    .iter()
                    .map(|word| format!("\"{word}\"*"))
                    .collect::<Vec<_>>()
                    .join(" + "),
            ),
        }
    }

    fn restrict(&self, select: &mut SelectStatement) {
        match self {
            Self::Postgres(tsquery) => {
                select.and_where(Expr::cust_with_values(
                    r#""record"."transcript_search" @@ to_tsquery('simple', $1)"#,
                    [tsquery.clone()],
                ));
            }
            Self::Sqlite(fts) => {
                // bm25 is computed in its own subquery: SQLite refuses it in a query with a
                // window function (the relevance page counts with one).
                let matches = SelectStatement::new()
                    .expr_as(Expr::cust("rowid"), Alias::new("key"))
                    .expr_as(
                        Expr::cust("bm25(record_transcript_fts)"),
                        Alias::new("rank"),
                    )
                    .from(Alias::new("record_transcript_fts"))
                    .and_where(Expr::cust_with_values(
                        "record_transcript_fts MATCH ?",
                        [fts.clone()],
                    ))
                    .to_owned();
                select
                    .join(
                        JoinType::InnerJoin,
                        Alias::new("record_search_key"),
                        Expr::cust(r#""record_search_key"."record_id" = "record"."id""#),
                    )
                    .join_subquery(
                        JoinType::InnerJoin,
                        matches,
                        Alias::new("fts"),
                        Expr::cust(r#""fts"."key" = "record_search_key"."key""#),
                    );
            }
        }
    }

    /// Orders by match quality: PostgreSQL's `ts_rank`, SQLite's `bm25` (lower is better).
    fn rank_first(&self, query: Select<record::Entity>) -> Select<record::Entity> {
        match self {
            Self::Postgres(tsquery) => query.order_by(
                Expr::cust_with_values(
                    r#"ts_rank("record"."transcript_search", to_tsquery('simple', $1))"#,
                    [tsquery.clone()],
                ),
                Order::Desc,
            ),
            Self::Sqlite(_) => query.order_by(Expr::cust(r#""fts"."rank""#), Order::Asc),
        }
    }
}

/// Whether `owner` has live records outside `companies` (one indexed probe): an administrator
/// usually has none, and their scope is then just the companies.
/// `query` narrowed to the records `scope` holds.
async fn in_scope(
    db: &Database,
    query: Select<record::Entity>,
    scope: &RecordScope,
) -> DomainResult<Select<record::Entity>> {
    let RecordScope::OwnAnd(owner, companies) = scope else {
        return Ok(query);
    };
    let in_companies = record::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid()));
    // Without own uploads elsewhere the scope is one index range, read in order and
    // counted from the index; `owner OR company` would visit every row of the company.
    Ok(if companies.is_empty() {
        query.filter(record::Column::OwnerId.eq(owner.as_uuid()))
    } else if owns_records_outside(db, *owner, companies).await? {
        query.filter(
            Condition::any()
                .add(record::Column::OwnerId.eq(owner.as_uuid()))
                .add(in_companies),
        )
    } else {
        query.filter(in_companies)
    })
}

pub(crate) async fn owns_records_outside(
    db: &Database,
    owner: AccountId,
    companies: &[CompanyId],
) -> DomainResult<bool> {
    let found = record::Entity::find()
        .select_only()
        .column(record::Column::Id)
        .filter(record::Column::DeletedAt.is_null())
        .filter(record::Column::OwnerId.eq(owner.as_uuid()))
        .filter(record::Column::CompanyId.is_not_in(companies.iter().map(|c| c.as_uuid())))
        .into_tuple::<uuid::Uuid>()
        .one(db.connection())
        .await
        .map_err(internal)?;
    Ok(found.is_some())
}

fn parse_status(id: uuid::Uuid, status: &str) -> DomainResult<RecordStatus> {
    RecordStatus::parse(status)
        .ok_or_else(|| DomainError::internal(format!("record {id} has status {status:?}")))
}

pub(crate) fn to_domain(row: record::Model) -> DomainResult<Record> {
    let status = parse_status(row.id, &row.status)?;
    Ok(Record {
        id: RecordId::from_uuid(row.id),
        owner_id: AccountId::from_uuid(row.owner_id),
        company_id: CompanyId::from_uuid(row.company_id),
        operator_code: row.operator_code,
        client_phone_number: row.client_phone_number,
        call_type: row.call_type.as_deref().and_then(CallType::parse),
        call_started_at: row.call_started_at.map(|t| t.0),
        duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
        status,
        general: row.general,
        original_filename: row.original_filename,
        content_type: AudioFormat::from_mime(&row.content_type).ok_or_else(|| {
            DomainError::internal(format!(
                "record {} has audio type {:?}",
                row.id, row.content_type
            ))
        })?,
        size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
        storage_key: row.storage_key,
        error: row.error,
        reserved_amount: row.reserved_amount,
        processing_round: u32::try_from(row.processing_round).unwrap_or(1),
        checklist_id: row.checklist_id.map(ChecklistId::from_uuid),
        checklist_version: row.checklist_version.and_then(|v| u32::try_from(v).ok()),
        payload: row
            .payload
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| DomainError::internal(format!("record payload: {e}")))?
            .unwrap_or_default(),
        crm: row.crm.and_then(|value| crm_of(row.id, value)),
        pbx_call_id: row.pbx_call_id,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        deleted_at: row.deleted_at.map(|t| t.0),
        row_version: RowVersion(row.row_version),
    })
}

/// A stored lookup that no longer parses is dropped (the next lookup replaces it) rather than
/// making the record unreadable.
fn crm_of(id: uuid::Uuid, value: serde_json::Value) -> Option<CrmLookup> {
    serde_json::from_value(value)
        .inspect_err(|error| tracing::warn!(record = %id, %error, "unreadable CRM lookup"))
        .ok()
}

fn crm_json(record: &Record) -> DomainResult<Option<serde_json::Value>> {
    record
        .crm
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| DomainError::internal(format!("record CRM lookup: {e}")))
}

fn customer_name(record: &Record) -> Option<String> {
    record.crm.as_ref().and_then(|c| c.customer_name.clone())
}

fn payload_json(record: &Record) -> DomainResult<serde_json::Value> {
    serde_json::to_value(&record.payload)
        .map_err(|e| DomainError::internal(format!("record payload: {e}")))
}

fn sentiment(record: &Record) -> Option<&'static str> {
    record
        .payload
        .general
        .as_ref()
        .map(|g| g.sentiment_conversation.value.as_str())
}

fn sentiment_client(record: &Record) -> Option<&'static str> {
    record
        .payload
        .general
        .as_ref()
        .map(|g| g.sentiment_client.value.as_str())
}

fn sentiment_operator(record: &Record) -> Option<&'static str> {
    record
        .payload
        .general
        .as_ref()
        .map(|g| g.sentiment_operator.value.as_str())
}

fn call_purpose(record: &Record) -> Option<String> {
    record
        .payload
        .general
        .as_ref()
        .map(|g| g.call_purpose.clone())
}

fn customer_satisfied(record: &Record) -> Option<bool> {
    record
        .payload
        .general
        .as_ref()
        .map(|g| g.is_customer_satisfied)
}

fn key_words(record: &Record) -> Option<serde_json::Value> {
    record
        .payload
        .general
        .as_ref()
        .map(|g| serde_json::Value::from(g.key_words.clone()))
}

fn checklist_score(record: &Record) -> Option<f64> {
    record.payload.checklist.as_ref().map(|c| c.score)
}

fn checklist_compliant(record: &Record) -> Option<bool> {
    record.payload.checklist.as_ref().map(|c| c.compliant)
}

/// Keeps the record's `checklist_verdict` rows equal to its checklist result: none before it
/// is scored (or after a reprocess clears it), one per item after.
async fn write_verdicts(tx: &mut Tx, record: &Record) -> DomainResult<()> {
    let txn = db_tx(tx)?;
    checklist_verdict::Entity::delete_many()
        .filter(checklist_verdict::Column::RecordId.eq(record.id.as_uuid()))
        .exec(txn)
        .await
        .map_err(internal)?;
    let Some(result) = &record.payload.checklist else {
        return Ok(());
    };
    let rows = result
        .items
        .iter()
        .map(|item| checklist_verdict::ActiveModel {
            record_id: Set(record.id.as_uuid()),
            item_id: Set(item.item_id.clone()),
            company_id: Set(record.company_id.as_uuid()),
            checklist_id: Set(result.checklist_id.as_uuid()),
            checklist_version: Set(i32::try_from(result.version).unwrap_or(i32::MAX)),
            critical: Set(item.critical),
            passed: Set(item.passed),
            evidence: Set(item.evidence.clone()),
            at_ms: Set(item.at_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX))),
            call_at: Set(TimeUnixTimestampMillis(record.call_at())),
        })
        .collect::<Vec<_>>();
    if !rows.is_empty() {
        checklist_verdict::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

/// One turn per line: what full-text search indexes (it folds case itself).
fn transcript_text(record: &Record) -> Option<String> {
    record.payload.transcript.as_ref().map(|turns| {
        turns
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn round(record: &Record) -> i32 {
    i32::try_from(record.processing_round).unwrap_or(i32::MAX)
}
