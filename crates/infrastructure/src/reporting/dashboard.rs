//! The dashboard's grouped rows: five aggregate statements over the scope's live records of
//! the period (by `call_at`), run concurrently. Volume, sentiments and operators read only
//! columns that `idx_record_live_company_call_at` carries on PostgreSQL; purposes and repeat
//! calls have their own indexes (`idx_record_company_purpose_call_at`,
//! `idx_record_company_phone_call_at`).

use async_trait::async_trait;
use dialix_kernel::{CompanyId, DomainResult, OperatorId};
use dialix_reporting::{
    AnalysisMix, DashboardFigures, DashboardRows, FigureScope, OperatorTotals, PurposeCount,
    RepeatCounts, RepeatRule, Sentiment, SlotVolume,
};
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, Func, JoinType, OverStatement, Query, WindowStatement,
};
use sea_orm::{ColumnTrait, Order, QueryResult};
use uuid::Uuid;

use super::aggregate::{count, count_if, grouped_rows, int, real, rows_counted, slot_of, sum};
use super::scope::{calls_between, records_in};
use crate::Database;
use crate::entities::{operator, record};
use crate::sql::internal;

/// Dashboard figures read with the query builder.
pub struct SeaOrmDashboardFigures {
    db: Database,
}

impl SeaOrmDashboardFigures {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn volume(&self, period: &Condition) -> DomainResult<Vec<SlotVolume>> {
        // A literal divisor, so the grouped and the selected expression are the same on
        // PostgreSQL.
        let slot = slot_of(col(record::Column::CallAt));
        let statement = Query::select()
            .expr_as(slot.clone(), "slot")
            .expr_as(rows_counted(), "calls")
            .expr_as(
                sum(Expr::col(col(record::Column::DurationMs))),
                "duration_ms",
            )
            .from(record::Entity)
            .cond_where(period.clone())
            .add_group_by([slot])
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                Ok(SlotVolume {
                    slot: int(row, "slot")?,
                    calls: count(row, "calls")?,
                    duration_ms: count(row, "duration_ms")?,
                })
            })
            .collect()
    }

    async fn analysis(&self, period: &Condition) -> DomainResult<Vec<AnalysisMix>> {
        let facts = [
            record::Column::Sentiment,
            record::Column::SentimentClient,
            record::Column::SentimentOperator,
            record::Column::CustomerSatisfied,
        ];
        let statement = Query::select()
            .columns(facts.map(col))
            .expr_as(rows_counted(), "calls")
            .from(record::Entity)
            .cond_where(period.clone())
            .group_by_columns(facts.map(col))
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                Ok(AnalysisMix {
                    conversation: sentiment(row, "sentiment")?,
                    client: sentiment(row, "sentiment_client")?,
                    operator: sentiment(row, "sentiment_operator")?,
                    satisfied: row
                        .try_get::<Option<bool>>("", "customer_satisfied")
                        .map_err(internal)?,
                    calls: count(row, "calls")?,
                })
            })
            .collect()
    }

    async fn purposes(&self, period: &Condition) -> DomainResult<Vec<PurposeCount>> {
        let statement = Query::select()
            .column(col(record::Column::CallPurpose))
            .expr_as(rows_counted(), "calls")
            .from(record::Entity)
            .cond_where(
                period
                    .clone()
                    .add(record::Column::CallPurpose.is_not_null()),
            )
            .group_by_col(col(record::Column::CallPurpose))
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                Ok(PurposeCount {
                    purpose: row.try_get("", "call_purpose").map_err(internal)?,
                    calls: count(row, "calls")?,
                })
            })
            .collect()
    }

    async fn operators(&self, period: &Condition) -> DomainResult<Vec<OperatorTotals>> {
        let score = || Expr::col(col(record::Column::ChecklistScore));
        let keys = [
            col(record::Column::CompanyId),
            col(record::Column::OperatorCode),
        ];
        let catalogue = [
            (operator::Entity, operator::Column::Id),
            (operator::Entity, operator::Column::Name),
        ];
        let statement = Query::select()
            .columns(keys)
            .expr_as(Expr::col(catalogue[0]), "operator_id")
            .expr_as(Expr::col(catalogue[1]), "operator_name")
            .expr_as(rows_counted(), "calls")
            .expr_as(
                sum(Expr::col(col(record::Column::DurationMs))),
                "duration_ms",
            )
            .expr_as(score().count(), "scored_calls")
            .expr_as(Func::sum(score()), "score_sum")
            .expr_as(
                count_if(Expr::col(col(record::Column::ChecklistCompliant)).eq(true)),
                "compliant_calls",
            )
            .from(record::Entity)
            .join(
                JoinType::LeftJoin,
                operator::Entity,
                Condition::all()
                    .add(
                        Expr::col((operator::Entity, operator::Column::CompanyId))
                            .equals(col(record::Column::CompanyId)),
                    )
                    .add(
                        Expr::col((operator::Entity, operator::Column::Code))
                            .equals(col(record::Column::OperatorCode)),
                    ),
            )
            .cond_where(
                period
                    .clone()
                    .add(record::Column::OperatorCode.is_not_null()),
            )
            .group_by_columns(keys)
            .group_by_columns(catalogue)
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                let id: Option<Uuid> = row.try_get("", "operator_id").map_err(internal)?;
                Ok(OperatorTotals {
                    company_id: CompanyId::from_uuid(
                        row.try_get("", "company_id").map_err(internal)?,
                    ),
                    operator_code: row.try_get("", "operator_code").map_err(internal)?,
                    operator_id: id.map(OperatorId::from_uuid),
                    operator_name: row.try_get("", "operator_name").map_err(internal)?,
                    calls: count(row, "calls")?,
                    duration_ms: count(row, "duration_ms")?,
                    scored_calls: count(row, "scored_calls")?,
                    score_sum: real(row, "score_sum")?,
                    compliant_calls: count(row, "compliant_calls")?,
                })
            })
            .collect()
    }

    /// One window pass over the scope's numbered calls from a window before the period to
    /// its end, in (company, number, time) order: each call's gap to the previous call of its
    /// number, counted for the period's calls only.
    async fn repeats(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
        rule: RepeatRule,
    ) -> DomainResult<RepeatCounts> {
        let numbered = Alias::new("numbered");
        let call_at = || Expr::col((numbered.clone(), Alias::new("call_at")));
        let previous_at = || Expr::col((numbered.clone(), Alias::new("previous_at")));
        let gap = || call_at().sub(previous_at());
        let inner = Query::select()
            .column(col(record::Column::CallAt))
            .expr_window_as(
                Func::cust("LAG").arg(Expr::col(col(record::Column::CallAt))),
                WindowStatement::new()
                    .partition_by_columns([
                        col(record::Column::CompanyId),
                        col(record::Column::ClientPhoneNumber),
                    ])
                    .order_by(col(record::Column::CallAt), Order::Asc)
                    .order_by(col(record::Column::Id), Order::Asc)
                    .take(),
                "previous_at",
            )
            .from(record::Entity)
            .cond_where(
                records_in(scope)
                    .add(record::Column::ClientPhoneNumber.is_not_null())
                    .add(record::Column::CallAt.gte(from_ms - rule.window_ms))
                    .add(record::Column::CallAt.lt(to_ms)),
            )
            .to_owned();
        let statement = Query::select()
            .expr_as(rows_counted(), "calls")
            .expr_as(
                count_if(
                    previous_at()
                        .is_not_null()
                        .and(gap().gt(rule.transfer_gap_ms))
                        .and(gap().lte(rule.window_ms)),
                ),
                "repeats",
            )
            .from_subquery(inner, numbered.clone())
            .and_where(call_at().gte(from_ms))
            .to_owned();
        let rows = grouped_rows(&self.db, &statement).await?;
        let Some(row) = rows.first() else {
            return Ok(RepeatCounts::default());
        };
        Ok(RepeatCounts {
            calls_with_number: count(row, "calls")?,
            repeat_calls: count(row, "repeats")?,
        })
    }
}

/// A record column named with its table (the operators' statement joins another).
fn col(column: record::Column) -> (record::Entity, record::Column) {
    (record::Entity, column)
}

fn sentiment(row: &QueryResult, column: &str) -> DomainResult<Option<Sentiment>> {
    let value: Option<String> = row.try_get("", column).map_err(internal)?;
    Ok(value.as_deref().and_then(Sentiment::parse))
}

#[async_trait]
impl DashboardFigures for SeaOrmDashboardFigures {
    async fn dashboard(
        &self,
        scope: &FigureScope,
        from_ms: i64,
        to_ms: i64,
        rule: RepeatRule,
    ) -> DomainResult<DashboardRows> {
        let period = calls_between(scope, from_ms, to_ms);
        let (volume, analysis, purposes, operators, repeats) = tokio::try_join!(
            self.volume(&period),
            self.analysis(&period),
            self.purposes(&period),
            self.operators(&period),
            self.repeats(scope, from_ms, to_ms, rule),
        )?;
        Ok(DashboardRows {
            volume,
            analysis,
            purposes,
            operators,
            repeats,
        })
    }
}
