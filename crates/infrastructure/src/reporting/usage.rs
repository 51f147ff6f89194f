//! Usage statistics: one aggregate statement per figure over live records (by `call_at`, the
//! `(company_id, call_at)` / `(owner_id, call_at)` indexes) or the ledger (by `created_at`, the
//! `(company_id, created_at)` / `(owner_id, created_at)` indexes).

use async_trait::async_trait;
use dialix_kernel::{AccountId, ChargedFor, CompanyId, DomainResult};
use dialix_reporting::{
    CallTotals, FigureScope, SlotCalls, SpendGrouping, SpendKey, SpendRow, TopUpRow, UsageFigures,
};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{ColumnTrait, QueryResult};
use uuid::Uuid;

use super::aggregate::{count, count_if, grouped_rows, int, rows_counted, slot_of, sum};
use super::scope::{calls_between, ledger_in};
use crate::Database;
use crate::entities::{account, company, ledger_transaction as ledger, record};
use crate::sql::internal;

/// Usage figures read with the query builder.
pub struct SeaOrmUsageFigures {
    db: Database,
}

impl SeaOrmUsageFigures {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn ledger_of(scope: &FigureScope, kind: &str, from_ms: i64, to_ms: i64) -> Condition {
    ledger_in(scope)
        .add(ledger::Column::Kind.eq(kind))
        .add(ledger::Column::CreatedAt.gte(from_ms))
        .add(ledger::Column::CreatedAt.lt(to_ms))
}

#[async_trait]
impl UsageFigures for SeaOrmUsageFigures {
    async fn calls(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
    ) -> DomainResult<CallTotals> {
        let status = || Expr::col((record::Entity, record::Column::Status));
        let statement = Query::select()
            .expr_as(rows_counted(), "uploaded")
            .expr_as(count_if(status().eq("done")), "processed")
            .expr_as(count_if(status().eq("failed")), "failed")
            .expr_as(sum(Expr::col(record::Column::DurationMs)), "audio_ms")
            .expr_as(sum(Expr::col(record::Column::SizeBytes)), "storage_bytes")
            .expr_as(
                Func::count_distinct(Expr::col(record::Column::OwnerId)),
                "active_users",
            )
            .from(record::Entity)
            .cond_where(calls_between(scope, from_ms, to_ms))
            .to_owned();
        let rows = grouped_rows(&self.db, &statement).await?;
        let Some(row) = rows.first() else {
            return Ok(CallTotals::default());
        };
        Ok(CallTotals {
            uploaded: count(row, "uploaded")?,
            processed: count(row, "processed")?,
            failed: count(row, "failed")?,
            audio_ms: count(row, "audio_ms")?,
            storage_bytes: count(row, "storage_bytes")?,
            active_users: count(row, "active_users")?,
        })
    }

    async fn calls_by_slot(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
    ) -> DomainResult<Vec<SlotCalls>> {
        let slot = slot_of((record::Entity, record::Column::CallAt));
        let statement = Query::select()
            .expr_as(slot.clone(), "slot")
            .expr_as(rows_counted(), "calls")
            .expr_as(sum(Expr::col(record::Column::DurationMs)), "audio_ms")
            .from(record::Entity)
            .cond_where(calls_between(scope, from_ms, to_ms))
            .add_group_by([slot])
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                Ok(SlotCalls {
                    slot: int(row, "slot")?,
                    calls: count(row, "calls")?,
                    audio_ms: count(row, "audio_ms")?,
                })
            })
            .collect()
    }

    async fn spend(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
        grouping: SpendGrouping,
    ) -> DomainResult<Vec<SpendRow>> {
        let item = Expr::col((ledger::Entity, ledger::Column::ChargeItem));
        let mut statement = Query::select()
            .expr_as(item.clone(), "item")
            .expr_as(rows_counted(), "charges")
            .expr_as(
                sum(Expr::col((ledger::Entity, ledger::Column::Amount))),
                "amount",
            )
            .from(ledger::Entity)
            .cond_where(ledger_of(scope, "charge", from_ms, to_ms))
            .to_owned();
        let (key, label): (Expr, Option<Expr>) = match grouping {
            SpendGrouping::Owner => {
                statement.join(
                    JoinType::LeftJoin,
                    account::Entity,
                    Expr::col((account::Entity, account::Column::Id))
                        .equals((ledger::Entity, ledger::Column::OwnerId)),
                );
                (
                    Expr::col((ledger::Entity, ledger::Column::OwnerId)),
                    Some(Expr::col((account::Entity, account::Column::Username))),
                )
            }
            SpendGrouping::Operator => {
                statement.join(
                    JoinType::LeftJoin,
                    record::Entity,
                    Expr::col((record::Entity, record::Column::Id))
                        .equals((ledger::Entity, ledger::Column::RecordId)),
                );
                (
                    Expr::col((record::Entity, record::Column::OperatorCode)),
                    None,
                )
            }
            SpendGrouping::Company => {
                statement.join(
                    JoinType::LeftJoin,
                    company::Entity,
                    Expr::col((company::Entity, company::Column::Id))
                        .equals((ledger::Entity, ledger::Column::CompanyId)),
                );
                (
                    Expr::col((ledger::Entity, ledger::Column::CompanyId)),
                    Some(Expr::col((company::Entity, company::Column::Name))),
                )
            }
            SpendGrouping::Slot => (slot_of((ledger::Entity, ledger::Column::CreatedAt)), None),
        };
        statement
            .expr_as(key.clone(), "key")
            .add_group_by([key, item]);
        if let Some(label) = label {
            statement
                .expr_as(label.clone(), "label")
                .add_group_by([label]);
        }
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| spend_row(row, grouping))
            .collect()
    }

    async fn topups(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
    ) -> DomainResult<Vec<TopUpRow>> {
        let slot = slot_of((ledger::Entity, ledger::Column::CreatedAt));
        let company_id = Expr::col((ledger::Entity, ledger::Column::CompanyId));
        let name = Expr::col((company::Entity, company::Column::Name));
        let statement = Query::select()
            .expr_as(company_id.clone(), "company_id")
            .expr_as(name.clone(), "company_name")
            .expr_as(slot.clone(), "slot")
            .expr_as(rows_counted(), "topups")
            .expr_as(
                sum(Expr::col((ledger::Entity, ledger::Column::Amount))),
                "amount",
            )
            .from(ledger::Entity)
            .join(
                JoinType::LeftJoin,
                company::Entity,
                Expr::col((company::Entity, company::Column::Id))
                    .equals((ledger::Entity, ledger::Column::CompanyId)),
            )
            .cond_where(ledger_of(scope, "topup", from_ms, to_ms))
            .add_group_by([company_id, name, slot])
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                Ok(TopUpRow {
                    company_id: CompanyId::from_uuid(
                        row.try_get::<Uuid>("", "company_id").map_err(internal)?,
                    ),
                    company_name: row
                        .try_get::<Option<String>>("", "company_name")
                        .map_err(internal)?
                        .unwrap_or_default(),
                    slot: int(row, "slot")?,
                    topups: count(row, "topups")?,
                    amount: int(row, "amount")?,
                })
            })
            .collect()
    }
}

/// A grouped row of charges; the ledger's negative amounts become positive spend.
fn spend_row(row: &QueryResult, grouping: SpendGrouping) -> DomainResult<SpendRow> {
    let uuid = || row.try_get::<Option<Uuid>>("", "key").map_err(internal);
    let key = match grouping {
        SpendGrouping::Owner => SpendKey::Owner(uuid()?.map(AccountId::from_uuid)),
        SpendGrouping::Operator => {
            SpendKey::Operator(row.try_get::<Option<String>>("", "key").map_err(internal)?)
        }
        SpendGrouping::Company => {
            SpendKey::Company(CompanyId::from_uuid(uuid()?.unwrap_or_default()))
        }
        SpendGrouping::Slot => SpendKey::Slot(int(row, "key")?),
    };
    let label = match grouping {
        SpendGrouping::Owner | SpendGrouping::Company => row
            .try_get::<Option<String>>("", "label")
            .map_err(internal)?,
        _ => None,
    };
    let item = row
        .try_get::<Option<String>>("", "item")
        .map_err(internal)?
        .as_deref()
        .and_then(ChargedFor::parse);
    Ok(SpendRow {
        key,
        label,
        item,
        charges: count(row, "charges")?,
        amount: -int(row, "amount")?,
    })
}
