use async_trait::async_trait;
use dialix_calls::{Record, RetentionCandidates};
use dialix_kernel::{DomainError, DomainResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::record;
use crate::sql::internal;

const DAY_MS: i64 = 86_400_000;

/// Finds expired records by joining each record's owner's settings.
pub struct SeaOrmRetention {
    db: Database,
}

impl SeaOrmRetention {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RetentionCandidates for SeaOrmRetention {
    async fn expired(
        &self,
        now: OffsetDateTime,
        default_days: i32,
        limit: u64,
    ) -> DomainResult<Vec<Record>> {
        let connection = self.db.connection();
        let backend = connection.get_database_backend();
        let p = |n: usize| {
            if backend == DatabaseBackend::Postgres {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let sql = format!(
            "SELECT r.id FROM record r LEFT JOIN user_settings s ON s.user_id = r.owner_id \
             WHERE r.deleted_at IS NULL \
             AND r.status IN ('uploaded', 'done', 'failed') \
             AND (r.storage_key IS NOT NULL OR r.transcript_text IS NOT NULL) \
             AND ((s.id IS NULL AND r.created_at < {}) \
                  OR (s.auto_delete_records_after_days IS NOT NULL \
                      AND r.created_at < {} - CAST(s.auto_delete_records_after_days AS BIGINT) * {DAY_MS})) \
             ORDER BY r.created_at LIMIT {}",
            p(1),
            p(2),
            p(3)
        );
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let rows = connection
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    (now_ms - i64::from(default_days) * DAY_MS).into(),
                    now_ms.into(),
                    (limit as i64).into(),
                ],
            ))
            .await
            .map_err(internal)?;
        let ids = rows
            .iter()
            .map(|row| {
                row.try_get_by_index::<Uuid>(0)
                    .map_err(|e| DomainError::internal(format!("record id: {e}")))
            })
            .collect::<DomainResult<Vec<_>>>()?;
        // The whole batch in one read, oldest first.
        record::Entity::find()
            .filter(record::Column::Id.is_in(ids))
            .order_by_asc(record::Column::CreatedAt)
            .all(connection)
            .await
            .map_err(internal)?
            .into_iter()
            .map(crate::records::to_domain)
            .collect()
    }
}
