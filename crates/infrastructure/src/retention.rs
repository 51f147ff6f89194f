use async_trait::async_trait;
use dialix_calls::{Record, RetentionCandidates};
use dialix_kernel::{DomainError, DomainResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::record;
use crate::sql::{RawSql, internal, millis};

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
        let now_ms = millis(now);
        let mut sql = RawSql::new(connection.get_database_backend());
        sql.push(
            "SELECT r.id FROM record r LEFT JOIN user_settings s ON s.user_id = r.owner_id \
             WHERE r.deleted_at IS NULL \
             AND r.status IN ('uploaded', 'done', 'failed') \
             AND (r.storage_key IS NOT NULL OR r.transcript_text IS NOT NULL) \
             AND ((s.id IS NULL AND r.created_at < ",
        )
        .bind(now_ms - i64::from(default_days) * DAY_MS)
        .push(
            ") OR (s.auto_delete_records_after_days IS NOT NULL \
             AND r.created_at < ",
        )
        .bind(now_ms)
        .push(&format!(
            " - CAST(s.auto_delete_records_after_days AS BIGINT) * {DAY_MS})) \
             ORDER BY r.created_at LIMIT "
        ))
        .bind(limit as i64);
        let rows = connection
            .query_all_raw(sql.statement())
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
