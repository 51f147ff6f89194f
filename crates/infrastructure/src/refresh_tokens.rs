use async_trait::async_trait;
use dialix_account::{RefreshOutcome, RefreshTokens};
use dialix_kernel::{AccountId, DomainResult};
use sea_orm::prelude::TimeUnixTimestampMillis;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::db_error::internal;
use crate::entities::refresh_token;
use crate::security::{random_token, sha256_hex};

/// Refresh tokens in the `refresh_token` table, stored as SHA-256 hashes.
pub struct SeaOrmRefreshTokens {
    db: Database,
}

impl SeaOrmRefreshTokens {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RefreshTokens for SeaOrmRefreshTokens {
    async fn issue(
        &self,
        account_id: AccountId,
        family: Uuid,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> DomainResult<String> {
        let token = random_token()?;
        let row = refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            account_id: Set(account_id.as_uuid()),
            family: Set(family),
            token_hash: Set(sha256_hex(&token)),
            issued_at: Set(TimeUnixTimestampMillis(issued_at)),
            expires_at: Set(TimeUnixTimestampMillis(expires_at)),
            spent_at: Set(None),
            revoked_at: Set(None),
        };
        refresh_token::Entity::insert(row)
            .exec_without_returning(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(token)
    }

    async fn spend(&self, token: &str, now: OffsetDateTime) -> DomainResult<RefreshOutcome> {
        let Some(row) = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(sha256_hex(token)))
            .one(self.db.connection())
            .await
            .map_err(internal)?
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let account_id = AccountId::from_uuid(row.account_id);
        let family = row.family;
        if row.spent_at.is_some() || row.revoked_at.is_some() {
            return Ok(RefreshOutcome::Replayed { account_id, family });
        }
        if row.expires_at.0 <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        // The conditional update is the atomic step: two concurrent spends both read the row
        // as live, but only one of them changes it.
        let spent = refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::SpentAt,
                Some(TimeUnixTimestampMillis(now)).into(),
            )
            .filter(refresh_token::Column::Id.eq(row.id))
            .filter(refresh_token::Column::SpentAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(if spent.rows_affected == 1 {
            RefreshOutcome::Fresh { account_id, family }
        } else {
            RefreshOutcome::Replayed { account_id, family }
        })
    }

    async fn revoke_family(&self, family: Uuid, at: OffsetDateTime) -> DomainResult<()> {
        refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::RevokedAt,
                Some(TimeUnixTimestampMillis(at)).into(),
            )
            .filter(refresh_token::Column::Family.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(())
    }
}
