use async_trait::async_trait;
use dialix_calls::{BalanceView, Billing, Charge};
use dialix_company::LedgerKind;
use dialix_kernel::{CompanyId, DomainError, DomainResult, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::{company, ledger_transaction};
use crate::sql::internal;
use crate::transaction::db_tx;

/// Reservations and charges on `company.balance` / `company.reserved`, with ledger entries.
pub struct SeaOrmBilling {
    db: Database,
}

impl SeaOrmBilling {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Billing for SeaOrmBilling {
    async fn reserve(&self, tx: &mut Tx, id: CompanyId, amount: i64) -> DomainResult<bool> {
        // The condition and the change are one statement: two racing reservations cannot
        // both see the same available money.
        let reserved = company::Entity::update_many()
            .col_expr(
                company::Column::Reserved,
                Expr::col(company::Column::Reserved).add(amount),
            )
            .filter(company::Column::Id.eq(id.as_uuid()))
            .filter(
                Expr::col(company::Column::Balance)
                    .sub(Expr::col(company::Column::Reserved))
                    .gte(amount),
            )
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(reserved.rows_affected == 1)
    }

    async fn settle(&self, tx: &mut Tx, charge: &Charge, at: OffsetDateTime) -> DomainResult<()> {
        let txn = db_tx(tx)?;
        let key = crate::ledger::stored_key(LedgerKind::Charge.as_str(), &charge.key());
        let already = ledger_transaction::Entity::find()
            .filter(ledger_transaction::Column::CompanyId.eq(charge.company.as_uuid()))
            .filter(ledger_transaction::Column::IdempotencyKey.eq(key.as_str()))
            .count(txn)
            .await
            .map_err(internal)?;
        if already > 0 {
            return Ok(());
        }
        company::Entity::update_many()
            .col_expr(
                company::Column::Balance,
                Expr::col(company::Column::Balance).sub(charge.amount),
            )
            .col_expr(
                company::Column::Reserved,
                Expr::col(company::Column::Reserved).sub(charge.amount),
            )
            .filter(company::Column::Id.eq(charge.company.as_uuid()))
            .exec(txn)
            .await
            .map_err(internal)?;
        let balance_after: Option<i64> = company::Entity::find_by_id(charge.company.as_uuid())
            .select_only()
            .column(company::Column::Balance)
            .into_tuple()
            .one(txn)
            .await
            .map_err(internal)?;
        ledger_transaction::Entity::insert(ledger_transaction::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(charge.company.as_uuid()),
            owner_id: Set(Some(charge.owner.as_uuid())),
            record_id: Set(Some(charge.record().as_uuid())),
            kind: Set(LedgerKind::Charge.as_str().to_owned()),
            amount: Set(-charge.amount),
            balance_after: Set(balance_after.ok_or(DomainError::NotFound("company"))?),
            idempotency_key: Set(Some(key)),
            created_at: Set(TimeUnixTimestampMillis(at)),
            charge_item: Set(Some(charge.charged_for().as_str().to_owned())),
        })
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
        Ok(())
    }

    async fn release(&self, tx: &mut Tx, id: CompanyId, amount: i64) -> DomainResult<()> {
        company::Entity::update_many()
            .col_expr(
                company::Column::Reserved,
                Expr::col(company::Column::Reserved).sub(amount),
            )
            .filter(company::Column::Id.eq(id.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn balance(&self, id: CompanyId) -> DomainResult<BalanceView> {
        let row: Option<(i64, i64)> = company::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(company::Column::Balance)
            .column(company::Column::Reserved)
            .into_tuple()
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        let (balance, reserved) = row.ok_or(DomainError::NotFound("company"))?;
        Ok(BalanceView { balance, reserved })
    }
}
