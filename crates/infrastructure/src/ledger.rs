use async_trait::async_trait;
use dialix_company::{Ledger, LedgerEntry, LedgerKind};
use dialix_kernel::{AccountId, CompanyId, DomainError, DomainResult, Page, PageRequest, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::Database;
use crate::entities::{company, ledger_transaction};
use crate::sql::{conflict_on_unique, internal};
use crate::transaction::db_tx;

/// The `transaction` table and `company.balance`.
pub struct SeaOrmLedger {
    db: Database,
}

impl SeaOrmLedger {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Ledger for SeaOrmLedger {
    async fn add_to_balance(&self, tx: &mut Tx, id: CompanyId, amount: i64) -> DomainResult<i64> {
        let txn = db_tx(tx)?;
        // `balance = balance + amount` is applied by the database under the row lock, and
        // the lock is held until commit, so the read below sees exactly this change.
        let updated = company::Entity::update_many()
            .col_expr(
                company::Column::Balance,
                Expr::col(company::Column::Balance).add(amount),
            )
            .filter(company::Column::Id.eq(id.as_uuid()))
            .exec(txn)
            .await
            .map_err(internal)?;
        if updated.rows_affected != 1 {
            return Err(DomainError::NotFound("company"));
        }
        let balance: Option<i64> = company::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(company::Column::Balance)
            .into_tuple()
            .one(txn)
            .await
            .map_err(internal)?;
        balance.ok_or(DomainError::NotFound("company"))
    }

    async fn append(&self, tx: &mut Tx, entry: &LedgerEntry) -> DomainResult<()> {
        let row = ledger_transaction::ActiveModel {
            id: Set(entry.id),
            company_id: Set(entry.company_id.as_uuid()),
            owner_id: Set(entry.owner_id.map(|o| o.as_uuid())),
            record_id: Set(entry.record_id),
            kind: Set(entry.kind.as_str().to_owned()),
            amount: Set(entry.amount),
            balance_after: Set(entry.balance_after),
            idempotency_key: Set(entry
                .idempotency_key
                .as_deref()
                .map(|key| stored_key(entry.kind.as_str(), key))),
            created_at: Set(TimeUnixTimestampMillis(entry.created_at)),
            charge_item: Set(None),
        };
        ledger_transaction::Entity::insert(row)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| {
                conflict_on_unique(
                    e,
                    "idempotency_key",
                    "this idempotency key was already used",
                )
            })?;
        Ok(())
    }

    async fn find_by_key(
        &self,
        id: CompanyId,
        kind: LedgerKind,
        key: &str,
    ) -> DomainResult<Option<LedgerEntry>> {
        ledger_transaction::Entity::find()
            .filter(ledger_transaction::Column::CompanyId.eq(id.as_uuid()))
            .filter(ledger_transaction::Column::IdempotencyKey.eq(stored_key(kind.as_str(), key)))
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn entries(&self, id: CompanyId, page: PageRequest) -> DomainResult<Page<LedgerEntry>> {
        let db = self.db.connection();
        let query = ledger_transaction::Entity::find()
            .filter(ledger_transaction::Column::CompanyId.eq(id.as_uuid()));
        let total = query.clone().count(db).await.map_err(internal)?;
        let rows = newest_first(query)
            .limit(page.limit)
            .offset(page.offset)
            .all(db)
            .await
            .map_err(internal)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(to_domain)
                .collect::<DomainResult<_>>()?,
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn entries_by_owner(
        &self,
        owner: AccountId,
        limit: u64,
    ) -> DomainResult<Vec<LedgerEntry>> {
        newest_first(
            ledger_transaction::Entity::find()
                .filter(ledger_transaction::Column::OwnerId.eq(owner.as_uuid())),
        )
        .limit(limit)
        .all(self.db.connection())
        .await
        .map_err(internal)?
        .into_iter()
        .map(to_domain)
        .collect()
    }
}

fn newest_first(
    query: sea_orm::Select<ledger_transaction::Entity>,
) -> sea_orm::Select<ledger_transaction::Entity> {
    query
        .order_by_desc(ledger_transaction::Column::CreatedAt)
        .order_by_desc(ledger_transaction::Column::Id)
}

/// Idempotency keys are stored as `<kind>:<key>`: unique per company and kind, so a client's
/// top-up key can never match a processing charge's internal key.
pub(crate) fn stored_key(kind: &str, key: &str) -> String {
    format!("{kind}:{key}")
}

fn to_domain(row: ledger_transaction::Model) -> DomainResult<LedgerEntry> {
    let kind = LedgerKind::parse(&row.kind).ok_or_else(|| {
        DomainError::internal(format!("ledger entry {} has kind {:?}", row.id, row.kind))
    })?;
    Ok(LedgerEntry {
        id: row.id,
        company_id: CompanyId::from_uuid(row.company_id),
        owner_id: row.owner_id.map(AccountId::from_uuid),
        record_id: row.record_id,
        kind,
        amount: row.amount,
        balance_after: row.balance_after,
        idempotency_key: row.idempotency_key.map(|stored| {
            stored
                .strip_prefix(&format!("{}:", row.kind))
                .map_or(stored.clone(), str::to_owned)
        }),
        created_at: row.created_at.0,
    })
}
