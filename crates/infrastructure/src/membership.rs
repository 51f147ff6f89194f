use async_trait::async_trait;
use dialix_company::{Membership, MembershipChange};
use dialix_kernel::{AccountId, CompanyId, DomainResult, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::{account, user_company_history};
use crate::sql::{bump_version, internal, landed};
use crate::transaction::db_tx;

/// Accounts' `company_id` and the `user_company_history` table.
pub struct SeaOrmMembership {
    db: Database,
}

impl SeaOrmMembership {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Membership for SeaOrmMembership {
    async fn company_of(&self, user: AccountId) -> DomainResult<Option<Option<CompanyId>>> {
        let row = account::Entity::find_by_id(user.as_uuid())
            .filter(account::Column::DeletedAt.is_null())
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(|a| a.company_id.map(CompanyId::from_uuid)))
    }

    async fn move_to(
        &self,
        tx: &mut Tx,
        user: AccountId,
        from: CompanyId,
        company: CompanyId,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        let result = bump_version(account::Entity::update_many(), account::Column::RowVersion)
            .col_expr(
                account::Column::CompanyId,
                Expr::value(Some(company.as_uuid())),
            )
            .col_expr(
                account::Column::UpdatedAt,
                Expr::value(TimeUnixTimestampMillis(at)),
            )
            .filter(account::Column::Id.eq(user.as_uuid()))
            .filter(account::Column::CompanyId.eq(from.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        landed(result, "account")
    }

    async fn record(&self, tx: &mut Tx, change: &MembershipChange) -> DomainResult<()> {
        let row = user_company_history::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(change.user_id.as_uuid()),
            company_id: Set(change.company_id.as_uuid()),
            action: Set(change.action.as_str().to_owned()),
            balance_at_time: Set(change.balance_at_time),
            created_at: Set(TimeUnixTimestampMillis(change.created_at)),
        };
        user_company_history::Entity::insert(row)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }
}
