use async_trait::async_trait;
use dialix_account::{FailureWindow, LoginAttempts};
use dialix_kernel::{DomainError, DomainResult};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use time::OffsetDateTime;
use uuid::Uuid;

use super::sha256_hex;
use crate::Database;
use crate::entities::login_failure;
use crate::sql::internal;

/// Failed logins in the `login_failure` table, shared by every API process on the database:
/// N processes allow together the failures one would. Keys are stored as their SHA-256: a
/// key holds whatever login name was typed (any length, control characters, someone's
/// email), none of which belongs in the table.
pub struct SeaOrmLoginAttempts {
    db: Database,
}

impl SeaOrmLoginAttempts {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Failures older than this are deleted as new ones arrive: longer than any sane window, and
/// a flood of distinct login names cannot grow the table without bound.
const KEPT_FOR: time::Duration = time::Duration::days(7);

#[async_trait]
impl LoginAttempts for SeaOrmLoginAttempts {
    async fn failures_since(
        &self,
        key: &str,
        since: OffsetDateTime,
    ) -> DomainResult<FailureWindow> {
        let (count, oldest): (i64, Option<TimeUnixTimestampMillis>) = login_failure::Entity::find()
            .select_only()
            .expr(Expr::cust("COUNT(*)"))
            .expr(Expr::cust("MIN(failed_at)"))
            .filter(login_failure::Column::Key.eq(sha256_hex(key)))
            .filter(login_failure::Column::FailedAt.gt(TimeUnixTimestampMillis(since)))
            .into_tuple()
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .ok_or_else(|| DomainError::internal("COUNT returned no row"))?;
        Ok(FailureWindow {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            oldest: oldest.map(|t| t.0),
        })
    }

    async fn record_failure(&self, key: &str, at: OffsetDateTime) -> DomainResult<()> {
        let db = self.db.writer();
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::FailedAt.lt(TimeUnixTimestampMillis(at - KEPT_FOR)))
            .exec(db)
            .await
            .map_err(internal)?;
        login_failure::Entity::insert(login_failure::ActiveModel {
            id: Set(Uuid::now_v7()),
            key: Set(sha256_hex(key)),
            failed_at: Set(TimeUnixTimestampMillis(at)),
        })
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
        Ok(())
    }

    async fn clear(&self, key: &str) -> DomainResult<()> {
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.eq(sha256_hex(key)))
            .exec(self.db.writer())
            .await
            .map_err(internal)?;
        Ok(())
    }
}
