//! Read models for statistics and the compliance dashboard.
//!
//! - `checklist_verdict`: one row per checklist item of a scored call (the verdicts were only
//!   in the record's JSON payload), with the call's company and time copied in so violations
//!   and per-item figures are range scans of one index. Existing results are copied over.
//! - `record.checklist_score` / `record.checklist_compliant`: the call's score and whether it
//!   passed (no failed critical item, score at or above the version's pass mark), promoted
//!   like `sentiment`.
//! - `record.sentiment_client` / `record.sentiment_operator`: the client's and the operator's
//!   sentiment, promoted beside the conversation's (`sentiment`) for the dashboard's
//!   distributions, and backfilled from the payload.
//! - Two partial indexes on live records by call time, per company and per owner: every
//!   figure is a range of one scope's calls. On PostgreSQL the company one carries the columns
//!   the figures read, so they come from the index alone.
//! - `transaction.charge_item`: what a charge paid for (`speech_to_text`, `general_analysis`,
//!   `checklist`, `chat`), backfilled from the idempotency key that already named it.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value as SqlValue};
use sea_orm_migration::{prelude::*, schema::*};
use serde_json::Value;
use std::collections::HashMap;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Records read per round of the backfill.
const BATCH: u64 = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChecklistVerdict::Table)
                    .col(uuid(ChecklistVerdict::RecordId))
                    .col(string_len(ChecklistVerdict::ItemId, 32))
                    .col(uuid(ChecklistVerdict::CompanyId))
                    .col(uuid(ChecklistVerdict::ChecklistId))
                    .col(integer(ChecklistVerdict::ChecklistVersion))
                    .col(boolean(ChecklistVerdict::Critical))
                    .col(boolean_null(ChecklistVerdict::Passed))
                    .col(text(ChecklistVerdict::Evidence))
                    .col(big_integer_null(ChecklistVerdict::AtMs))
                    .col(big_integer(ChecklistVerdict::CallAt))
                    .primary_key(
                        Index::create()
                            .col(ChecklistVerdict::RecordId)
                            .col(ChecklistVerdict::ItemId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChecklistVerdict::Table, ChecklistVerdict::RecordId)
                            .to(Record::Table, Record::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_checklist_verdict_company_call_at")
                    .table(ChecklistVerdict::Table)
                    .col(ChecklistVerdict::CompanyId)
                    .col(ChecklistVerdict::CallAt)
                    .to_owned(),
            )
            .await?;
        // One column per ALTER: SQLite cannot add several at once.
        for column in [
            double_null(Record::ChecklistScore),
            boolean_null(Record::ChecklistCompliant),
            string_len_null(Record::SentimentClient, 16),
            string_len_null(Record::SentimentOperator, 16),
        ] {
            alter_add(manager, Record::Table, column).await?;
        }
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let db = manager.get_connection();
        // Only analysed calls have sentiments; `sentiment` is set exactly for them.
        db.execute_unprepared(if postgres {
            "UPDATE record SET \
             sentiment_client = payload->'general'->'sentiment_client'->>'value', \
             sentiment_operator = payload->'general'->'sentiment_operator'->>'value' \
             WHERE sentiment IS NOT NULL"
        } else {
            "UPDATE record SET \
             sentiment_client = json_extract(payload, '$.general.sentiment_client.value'), \
             sentiment_operator = json_extract(payload, '$.general.sentiment_operator.value') \
             WHERE sentiment IS NOT NULL"
        })
        .await?;
        let covers = if postgres {
            " INCLUDE (status, duration_ms, size_bytes, owner_id, operator_code, sentiment, \
             sentiment_client, sentiment_operator, customer_satisfied, checklist_score, \
             checklist_compliant)"
        } else {
            ""
        };
        db.execute_unprepared(&format!(
            "CREATE INDEX idx_record_live_company_call_at ON record (company_id, call_at){covers} \
             WHERE deleted_at IS NULL"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_record_live_owner_call_at ON record (owner_id, call_at) \
             WHERE deleted_at IS NULL",
        )
        .await?;
        alter_add(
            manager,
            Transaction::Table,
            string_len_null(Transaction::ChargeItem, 32),
        )
        .await?;
        for (suffix, item) in [
            (":stt", "speech_to_text"),
            (":general", "general_analysis"),
            (":checklist", "checklist"),
        ] {
            db.execute_unprepared(&format!(
                "UPDATE \"transaction\" SET charge_item = '{item}' \
                 WHERE kind = 'charge' AND idempotency_key LIKE 'charge:record:%{suffix}'"
            ))
            .await?;
        }
        db.execute_unprepared(
            "UPDATE \"transaction\" SET charge_item = 'chat' \
             WHERE kind = 'charge' AND idempotency_key LIKE 'charge:chat:%'",
        )
        .await?;
        copy_verdicts(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in [
            "idx_record_live_company_call_at",
            "idx_record_live_owner_call_at",
        ] {
            manager
                .drop_index(Index::drop().name(index).table(Record::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ChecklistVerdict::Table).to_owned())
            .await?;
        for column in [
            Record::SentimentOperator,
            Record::SentimentClient,
            Record::ChecklistCompliant,
            Record::ChecklistScore,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Record::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Transaction::Table)
                    .drop_column(Transaction::ChargeItem)
                    .to_owned(),
            )
            .await
    }
}

async fn alter_add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(column.to_owned())
                .to_owned(),
        )
        .await
}

/// Copies the verdicts of every scored call out of its payload, in batches by record id.
async fn copy_verdicts(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let critical = critical_items(db).await?;
    let mut after = uuid::Uuid::nil();
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                placeholders(
                    backend,
                    "SELECT id, company_id, call_at, checklist_id, checklist_version, payload \
                     FROM record WHERE checklist_id IS NOT NULL AND payload IS NOT NULL \
                     AND id > $1 ORDER BY id LIMIT $2",
                ),
                [SqlValue::from(after), SqlValue::from(BATCH as i64)],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "id")?;
        for row in &rows {
            let payload: Value = row.try_get("", "payload")?;
            let Some(result) = payload.get("checklist").filter(|c| !c.is_null()) else {
                continue;
            };
            let record: uuid::Uuid = row.try_get("", "id")?;
            let company: uuid::Uuid = row.try_get("", "company_id")?;
            let call_at: i64 = row.try_get("", "call_at")?;
            let checklist: uuid::Uuid = row.try_get("", "checklist_id")?;
            let version: i32 = row.try_get("", "checklist_version")?;
            let items = result["items"].as_array().cloned().unwrap_or_default();
            for item in items {
                let item_id = item["item_id"].as_str().unwrap_or_default().to_owned();
                let is_critical = critical
                    .get(&(checklist, version))
                    .is_some_and(|ids| ids.contains(&item_id));
                let insert = Query::insert()
                    .into_table(ChecklistVerdict::Table)
                    .columns([
                        ChecklistVerdict::RecordId,
                        ChecklistVerdict::ItemId,
                        ChecklistVerdict::CompanyId,
                        ChecklistVerdict::ChecklistId,
                        ChecklistVerdict::ChecklistVersion,
                        ChecklistVerdict::Critical,
                        ChecklistVerdict::Passed,
                        ChecklistVerdict::Evidence,
                        ChecklistVerdict::AtMs,
                        ChecklistVerdict::CallAt,
                    ])
                    .values_panic([
                        record.into(),
                        item_id.into(),
                        company.into(),
                        checklist.into(),
                        version.into(),
                        is_critical.into(),
                        item["passed"].as_bool().into(),
                        item["evidence"].as_str().unwrap_or_default().into(),
                        item["at_ms"].as_i64().into(),
                        call_at.into(),
                    ])
                    .to_owned();
                db.execute(&insert).await?;
            }
            let update = Query::update()
                .table(Record::Table)
                .value(Record::ChecklistScore, result["score"].as_f64())
                .value(Record::ChecklistCompliant, result["compliant"].as_bool())
                .and_where(Expr::col(Record::Id).eq(record))
                .to_owned();
            db.execute(&update).await?;
        }
    }
}

/// The critical item ids of every checklist version.
async fn critical_items(
    db: &SchemaManagerConnection<'_>,
) -> Result<HashMap<(uuid::Uuid, i32), Vec<String>>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT checklist_id, version, content FROM checklist_version",
        ))
        .await?;
    let mut critical = HashMap::new();
    for row in rows {
        let content: Value = row.try_get("", "content")?;
        let ids = content["segments"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|segment| segment["items"].as_array().into_iter().flatten())
            .filter(|item| item["critical"].as_bool() == Some(true))
            .filter_map(|item| item["id"].as_str().map(str::to_owned))
            .collect();
        critical.insert(
            (
                row.try_get("", "checklist_id")?,
                row.try_get("", "version")?,
            ),
            ids,
        );
    }
    Ok(critical)
}

/// `$n` placeholders as PostgreSQL writes them, `?` for SQLite.
fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?").replace("$2", "?"),
    }
}

#[derive(DeriveIden)]
enum ChecklistVerdict {
    Table,
    RecordId,
    ItemId,
    CompanyId,
    ChecklistId,
    ChecklistVersion,
    Critical,
    Passed,
    Evidence,
    AtMs,
    CallAt,
}

#[derive(DeriveIden)]
enum Record {
    Table,
    Id,
    ChecklistScore,
    ChecklistCompliant,
    SentimentClient,
    SentimentOperator,
}

#[derive(DeriveIden)]
enum Transaction {
    Table,
    ChargeItem,
}
