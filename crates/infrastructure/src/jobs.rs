use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{Job, JobQueue, QueueStats};
use dialix_kernel::{DomainError, DomainResult, RecordId, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::{ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::processing_job;
use crate::sql::{RawSql, internal, millis};
use crate::transaction::db_tx;

/// Where a job stands: waiting (or leased) to run, finished, or given up after its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobStatus {
    Pending,
    Done,
    Dead,
}

impl JobStatus {
    const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
}

/// The durable queue in `processing_job`. On PostgreSQL a claim takes the next ready job with
/// `FOR UPDATE SKIP LOCKED`, so any number of workers in any number of processes share the
/// work; on SQLite the single writer connection serialises claims. Claims, `retry_later` and
/// `release` write outside a caller's transaction, so they go to the writer.
pub struct SeaOrmJobQueue {
    db: Database,
}

impl SeaOrmJobQueue {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl JobQueue for SeaOrmJobQueue {
    async fn enqueue(&self, tx: &mut Tx, record: RecordId, at: OffsetDateTime) -> DomainResult<()> {
        processing_job::Entity::insert(processing_job::ActiveModel {
            id: Set(Uuid::now_v7()),
            record_id: Set(record.as_uuid()),
            status: Set(JobStatus::Pending.as_str().into()),
            attempts: Set(0),
            available_at: Set(TimeUnixTimestampMillis(at)),
            locked_by: Set(None),
            locked_until: Set(None),
            last_error: Set(None),
            created_at: Set(TimeUnixTimestampMillis(at)),
            updated_at: Set(TimeUnixTimestampMillis(at)),
        })
        .on_conflict(
            OnConflict::column(processing_job::Column::RecordId)
                .update_columns([
                    processing_job::Column::Status,
                    processing_job::Column::Attempts,
                    processing_job::Column::AvailableAt,
                    processing_job::Column::LockedBy,
                    processing_job::Column::LockedUntil,
                    processing_job::Column::LastError,
                    processing_job::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db_tx(tx)?)
        .await
        .map_err(internal)?;
        Ok(())
    }

    async fn stats(&self, now: OffsetDateTime) -> DomainResult<QueueStats> {
        let connection = self.db.connection();
        let backend = connection.get_database_backend();
        let now_ms = millis(now);
        let (pending, dead) = (JobStatus::Pending.as_str(), JobStatus::Dead.as_str());
        // Unfinished jobs only: `idx_processing_job_ready` (status, available_at) skips the
        // finished ones, however many calls were ever processed.
        let mut sql = RawSql::new(backend);
        sql.push(&format!(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN status = '{pending}' AND available_at <= "
        ))
        .bind(now_ms)
        .push(" AND (locked_until IS NULL OR locked_until < ")
        .bind(now_ms)
        .push(&format!(
            ") THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN status = '{pending}' AND available_at > "
        ))
        .bind(now_ms)
        .push(" AND (locked_until IS NULL OR locked_until < ")
        .bind(now_ms)
        .push(&format!(
            ") THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN status = '{pending}' AND locked_until >= "
        ))
        .bind(now_ms)
        .push(&format!(
            " THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN status = '{dead}' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               MIN(CASE WHEN status = '{pending}' AND available_at <= "
        ))
        .bind(now_ms)
        .push(" AND (locked_until IS NULL OR locked_until < ")
        .bind(now_ms)
        .push(&format!(
            ") THEN available_at END) \
             FROM processing_job WHERE status IN ('{pending}', '{dead}')"
        ));
        let row = connection
            .query_one_raw(sql.statement())
            .await
            .map_err(internal)?
            .ok_or_else(|| DomainError::internal("queue statistics returned no row"))?;
        let count = |i: usize| -> DomainResult<u64> {
            let n: i64 = row
                .try_get_by_index(i)
                .map_err(|e| DomainError::internal(format!("queue statistics: {e}")))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let oldest: Option<i64> = row
            .try_get_by_index(4)
            .map_err(|e| DomainError::internal(format!("queue statistics: {e}")))?;
        Ok(QueueStats {
            ready: count(0)?,
            delayed: count(1)?,
            running: count(2)?,
            dead: count(3)?,
            oldest_ready_wait: oldest
                .map(|ms| Duration::from_millis(u64::try_from(now_ms - ms).unwrap_or(0))),
        })
    }

    async fn claim(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> DomainResult<Option<Job>> {
        let connection = self.db.writer();
        let backend = connection.get_database_backend();
        let now_ms = millis(now);
        let until_ms = now_ms + lease.as_millis() as i64;
        let lock = if backend == DatabaseBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let mut select = RawSql::new(backend);
        select
            .push(&format!(
                "SELECT id FROM processing_job WHERE status = '{}' AND available_at <= ",
                JobStatus::Pending.as_str()
            ))
            .bind(now_ms)
            .push(" AND (locked_until IS NULL OR locked_until < ")
            .bind(now_ms)
            .push(") ORDER BY available_at LIMIT 1")
            .push(lock);
        let txn = self.db.begin().await.map_err(internal)?;
        let row = txn
            .query_one_raw(select.statement())
            .await
            .map_err(internal)?;
        let Some(row) = row else {
            txn.commit().await.map_err(internal)?;
            return Ok(None);
        };
        let id: Uuid = row
            .try_get_by_index(0)
            .map_err(|e| DomainError::internal(format!("job id: {e}")))?;
        processing_job::Entity::update_many()
            .col_expr(
                processing_job::Column::LockedBy,
                Expr::value(Some(worker.to_owned())),
            )
            .col_expr(
                processing_job::Column::LockedUntil,
                Expr::value(Some(until_ms)),
            )
            .col_expr(
                processing_job::Column::Attempts,
                Expr::col(processing_job::Column::Attempts).add(1),
            )
            .col_expr(processing_job::Column::UpdatedAt, Expr::value(now_ms))
            .filter(processing_job::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(internal)?;
        let job = processing_job::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(internal)?
            .ok_or_else(|| DomainError::internal("a claimed job vanished"))?;
        txn.commit().await.map_err(internal)?;
        Ok(Some(Job {
            id: job.id,
            record_id: RecordId::from_uuid(job.record_id),
            attempts: u32::try_from(job.attempts).unwrap_or(u32::MAX),
        }))
    }

    async fn finish(&self, tx: &mut Tx, record: RecordId, at: OffsetDateTime) -> DomainResult<()> {
        processing_job::Entity::update_many()
            .col_expr(
                processing_job::Column::Status,
                Expr::value(JobStatus::Done.as_str()),
            )
            .col_expr(
                processing_job::Column::LockedUntil,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(processing_job::Column::UpdatedAt, Expr::value(millis(at)))
            .filter(processing_job::Column::RecordId.eq(record.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn retry_later(&self, job: Uuid, at: OffsetDateTime, error: &str) -> DomainResult<()> {
        unlocked(at)
            .col_expr(
                processing_job::Column::LastError,
                Expr::value(Some(error.to_owned())),
            )
            .filter(processing_job::Column::Id.eq(job))
            .exec(self.db.writer())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn release(&self, job: Uuid, worker: &str, at: OffsetDateTime) -> DomainResult<()> {
        // The claim counted an attempt; handing back takes it away again.
        unlocked(at)
            .col_expr(
                processing_job::Column::Attempts,
                Expr::col(processing_job::Column::Attempts).sub(1),
            )
            .filter(processing_job::Column::Id.eq(job))
            .filter(processing_job::Column::Status.eq(JobStatus::Pending.as_str()))
            .filter(processing_job::Column::LockedBy.eq(worker))
            .filter(processing_job::Column::Attempts.gt(0))
            .exec(self.db.writer())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn give_up(
        &self,
        tx: &mut Tx,
        job: Uuid,
        error: &str,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        processing_job::Entity::update_many()
            .col_expr(
                processing_job::Column::Status,
                Expr::value(JobStatus::Dead.as_str()),
            )
            .col_expr(
                processing_job::Column::LockedUntil,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                processing_job::Column::LastError,
                Expr::value(Some(error.to_owned())),
            )
            .col_expr(processing_job::Column::UpdatedAt, Expr::value(millis(at)))
            .filter(processing_job::Column::Id.eq(job))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }
}

/// An update that frees a job's lease and makes it ready at `at` (a retry, a hand-back).
fn unlocked(at: OffsetDateTime) -> sea_orm::UpdateMany<processing_job::Entity> {
    processing_job::Entity::update_many()
        .col_expr(processing_job::Column::AvailableAt, Expr::value(millis(at)))
        .col_expr(
            processing_job::Column::LockedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            processing_job::Column::LockedUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(processing_job::Column::UpdatedAt, Expr::value(millis(at)))
}
