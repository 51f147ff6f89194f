use async_trait::async_trait;
use dialix_account::{RefreshTokenState, RefreshTokens};
use dialix_kernel::{AccountId, DomainResult, Tx};
use sea_orm::prelude::TimeUnixTimestampMillis;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::refresh_token;
use crate::security::{random_token, sha256_hex};
use crate::sql::internal;
use crate::transaction::db_tx;

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
        tx: &mut Tx,
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
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(token)
    }

    async fn find(&self, token: &str) -> DomainResult<Option<RefreshTokenState>> {
        let row = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(sha256_hex(token)))
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(|row| RefreshTokenState {
            id: row.id,
            account_id: AccountId::from_uuid(row.account_id),
            family: row.family,
            expires_at: row.expires_at.0,
            spent: row.spent_at.is_some(),
            revoked: row.revoked_at.is_some(),
        }))
    }

    async fn spend(&self, tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> DomainResult<bool> {
        // The conditional update is the atomic step: of two concurrent spends, only one
        // changes the row (the other waits for its commit and then matches nothing).
        let spent = refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::SpentAt,
                Some(TimeUnixTimestampMillis(at)).into(),
            )
            .filter(refresh_token::Column::Id.eq(id))
            .filter(refresh_token::Column::SpentAt.is_null())
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(spent.rows_affected == 1)
    }

    async fn revoke_family(
        &self,
        tx: &mut Tx,
        family: Uuid,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::RevokedAt,
                Some(TimeUnixTimestampMillis(at)).into(),
            )
            .filter(refresh_token::Column::Family.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn revoke_all(
        &self,
        tx: &mut Tx,
        account: AccountId,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        refresh_token::Entity::update_many()
            .col_expr(
                refresh_token::Column::RevokedAt,
                Some(TimeUnixTimestampMillis(at)).into(),
            )
            .filter(refresh_token::Column::AccountId.eq(account.as_uuid()))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }
}
