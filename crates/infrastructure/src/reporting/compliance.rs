//! The compliance dashboard's read model: scored calls from live records (the
//! `(company_id, call_at)` / `(owner_id, call_at)` indexes; on PostgreSQL the company one
//! covers score and compliance), failed and passed verdicts from `checklist_verdict` (its
//! `(company_id, call_at)` index), names from the few operators and checklist versions a
//! result mentions.

use async_trait::async_trait;
use dialix_kernel::{
    ChecklistId, CompanyId, DomainResult, OperatorId, Page, PageRequest, RecordId,
};
use dialix_reporting::{
    ChecklistItemText, ChecklistVersionText, ComplianceFigures, ComplianceFilter, FigureScope,
    ItemTally, OperatorKey, OperatorRef, ScoredGroup, ScoredSlot, ViolationFilter, ViolationRow,
};
use sea_orm::sea_query::{
    Condition, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryResult};
use serde_json::Value;
use uuid::Uuid;

use super::aggregate::{count, count_if, grouped_rows, real, rows_counted, slot_of};
use super::scope::{calls_between, verdicts_in};
use crate::Database;
use crate::entities::{checklist_verdict as verdict, checklist_version, operator, record};
use crate::sql::internal;

/// Compliance figures read with the query builder.
pub struct SeaOrmComplianceFigures {
    db: Database,
}

impl SeaOrmComplianceFigures {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Scored live calls of the scope, period and filter.
fn scored_calls_in(
    scope: &FigureScope,
    filter: &ComplianceFilter,
    from_ms: i64,
    to_ms: i64,
) -> Condition {
    let mut condition =
        calls_between(scope, from_ms, to_ms).add(record::Column::ChecklistScore.is_not_null());
    if !filter.operators.is_empty() {
        condition = condition.add(of_operators(&filter.operators));
    }
    if let Some(checklist) = filter.checklist {
        condition = condition.add(record::Column::ChecklistId.eq(checklist.as_uuid()));
    }
    condition
}

/// The calls of any of `operators` (callers add it only when there are some).
fn of_operators(operators: &[OperatorKey]) -> Condition {
    operators.iter().fold(Condition::any(), |any, key| {
        any.add(
            Condition::all()
                .add(record::Column::CompanyId.eq(key.company_id.as_uuid()))
                .add(record::Column::OperatorCode.eq(key.code.as_str())),
        )
    })
}

/// Verdicts of the scope, period and filter (operators narrow the calls they belong to).
fn verdicts_of(
    scope: &FigureScope,
    filter: &ComplianceFilter,
    from_ms: i64,
    to_ms: i64,
) -> Condition {
    let calls = if filter.operators.is_empty() {
        Condition::all()
    } else {
        of_operators(&filter.operators)
    };
    let condition = verdicts_in(scope, from_ms, to_ms, calls);
    match filter.checklist {
        Some(checklist) => condition.add(verdict::Column::ChecklistId.eq(checklist.as_uuid())),
        None => condition,
    }
}

#[async_trait]
impl ComplianceFigures for SeaOrmComplianceFigures {
    async fn scored_calls(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        from_ms: i64,
        to_ms: i64,
    ) -> DomainResult<Vec<ScoredGroup>> {
        let columns = [
            record::Column::CompanyId,
            record::Column::OperatorCode,
            record::Column::ChecklistId,
        ];
        let statement = with_score_tally(Query::select().columns(columns))
            .from(record::Entity)
            .cond_where(scored_calls_in(scope, filter, from_ms, to_ms))
            .group_by_columns(columns)
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                let (calls, compliant, score_sum) = score_tally(row)?;
                Ok(ScoredGroup {
                    company_id: CompanyId::from_uuid(
                        row.try_get::<Uuid>("", "company_id").map_err(internal)?,
                    ),
                    operator_code: row.try_get("", "operator_code").map_err(internal)?,
                    checklist_id: row
                        .try_get::<Option<Uuid>>("", "checklist_id")
                        .map_err(internal)?
                        .map(ChecklistId::from_uuid),
                    calls,
                    compliant,
                    score_sum,
                })
            })
            .collect()
    }

    async fn scored_slots(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        from_ms: i64,
        to_ms: i64,
    ) -> DomainResult<Vec<ScoredSlot>> {
        // A literal divisor, so the grouped and the selected expression are the same on
        // PostgreSQL.
        let slot = slot_of((record::Entity, record::Column::CallAt));
        let statement = with_score_tally(Query::select().expr_as(slot.clone(), "slot"))
            .from(record::Entity)
            .cond_where(scored_calls_in(scope, filter, from_ms, to_ms))
            .add_group_by([slot])
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                let (calls, compliant, score_sum) = score_tally(row)?;
                Ok(ScoredSlot {
                    slot: row.try_get::<i64>("", "slot").map_err(internal)?,
                    calls,
                    compliant,
                    score_sum,
                })
            })
            .collect()
    }

    async fn item_tallies(
        &self,
        scope: &FigureScope,
        filter: &ComplianceFilter,
        from_ms: i64,
        to_ms: i64,
    ) -> DomainResult<Vec<ItemTally>> {
        let columns = [
            (verdict::Entity, verdict::Column::ChecklistId),
            (verdict::Entity, verdict::Column::ChecklistVersion),
            (verdict::Entity, verdict::Column::ItemId),
            (verdict::Entity, verdict::Column::Critical),
        ];
        let passed = || Expr::col((verdict::Entity, verdict::Column::Passed));
        let statement = Query::select()
            .columns(columns)
            .expr_as(passed().count(), "applicable")
            .expr_as(count_if(passed().eq(true)), "passed")
            .from(verdict::Entity)
            .cond_where(verdicts_of(scope, filter, from_ms, to_ms))
            .group_by_columns(columns)
            .to_owned();
        grouped_rows(&self.db, &statement)
            .await?
            .iter()
            .map(|row| {
                Ok(ItemTally {
                    checklist_id: ChecklistId::from_uuid(
                        row.try_get::<Uuid>("", "checklist_id").map_err(internal)?,
                    ),
                    version: row.try_get("", "checklist_version").map_err(internal)?,
                    item_id: row.try_get("", "item_id").map_err(internal)?,
                    critical: row.try_get("", "critical").map_err(internal)?,
                    applicable: count(row, "applicable")?,
                    passed: count(row, "passed")?,
                })
            })
            .collect()
    }

    async fn violations(
        &self,
        scope: &FigureScope,
        filter: &ViolationFilter,
        from_ms: i64,
        to_ms: i64,
        page: PageRequest,
    ) -> DomainResult<Page<ViolationRow>> {
        let mut matches = Query::select()
            .from(verdict::Entity)
            .cond_where(verdicts_of(scope, &filter.calls, from_ms, to_ms))
            .and_where(verdict::Column::Passed.eq(false))
            .to_owned();
        if let Some(item) = &filter.item_id {
            matches.and_where(verdict::Column::ItemId.eq(item.as_str()));
        }
        if filter.critical_only {
            matches.and_where(verdict::Column::Critical.eq(true));
        }
        let total = matches
            .clone()
            .expr_as(Expr::cust("COUNT(*)"), "total")
            .to_owned();
        let total = match grouped_rows(&self.db, &total).await?.first() {
            Some(row) => count(row, "total")?,
            None => 0,
        };
        // Only the page's rows are joined to their call, for its operator code.
        let listing = matches
            .join(
                JoinType::InnerJoin,
                record::Entity,
                Expr::col((record::Entity, record::Column::Id))
                    .equals((verdict::Entity, verdict::Column::RecordId)),
            )
            .columns([
                (verdict::Entity, verdict::Column::RecordId),
                (verdict::Entity, verdict::Column::CompanyId),
                (verdict::Entity, verdict::Column::CallAt),
                (verdict::Entity, verdict::Column::ChecklistId),
                (verdict::Entity, verdict::Column::ChecklistVersion),
                (verdict::Entity, verdict::Column::ItemId),
                (verdict::Entity, verdict::Column::Critical),
                (verdict::Entity, verdict::Column::Evidence),
                (verdict::Entity, verdict::Column::AtMs),
            ])
            .column((record::Entity, record::Column::OperatorCode))
            .order_by((verdict::Entity, verdict::Column::CallAt), Order::Desc)
            .order_by((verdict::Entity, verdict::Column::RecordId), Order::Desc)
            .order_by((verdict::Entity, verdict::Column::ItemId), Order::Asc)
            .limit(page.limit)
            .offset(page.offset)
            .to_owned();
        let items = grouped_rows(&self.db, &listing)
            .await?
            .iter()
            .map(|row| {
                Ok(ViolationRow {
                    record_id: RecordId::from_uuid(
                        row.try_get::<Uuid>("", "record_id").map_err(internal)?,
                    ),
                    company_id: CompanyId::from_uuid(
                        row.try_get::<Uuid>("", "company_id").map_err(internal)?,
                    ),
                    call_at_ms: row.try_get("", "call_at").map_err(internal)?,
                    operator_code: row.try_get("", "operator_code").map_err(internal)?,
                    checklist_id: ChecklistId::from_uuid(
                        row.try_get::<Uuid>("", "checklist_id").map_err(internal)?,
                    ),
                    version: row.try_get("", "checklist_version").map_err(internal)?,
                    item_id: row.try_get("", "item_id").map_err(internal)?,
                    critical: row.try_get("", "critical").map_err(internal)?,
                    evidence: row.try_get("", "evidence").map_err(internal)?,
                    at_ms: row.try_get("", "at_ms").map_err(internal)?,
                })
            })
            .collect::<DomainResult<_>>()?;
        Ok(Page {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn operator(&self, id: OperatorId) -> DomainResult<Option<OperatorRef>> {
        Ok(operator::Entity::find_by_id(id.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(operator_ref))
    }

    async fn operators_by_code(&self, keys: &[OperatorKey]) -> DomainResult<Vec<OperatorRef>> {
        // Companies and codes each as one IN list; the pairs are matched here.
        let companies: Vec<Uuid> = keys.iter().map(|k| k.company_id.as_uuid()).collect();
        let codes: Vec<&str> = keys.iter().map(|k| k.code.as_str()).collect();
        let found = operator::Entity::find()
            .filter(operator::Column::CompanyId.is_in(companies))
            .filter(operator::Column::Code.is_in(codes))
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(found
            .into_iter()
            .map(operator_ref)
            .filter(|o| keys.contains(&o.key))
            .collect())
    }

    async fn checklist_versions(
        &self,
        keys: &[(ChecklistId, i32)],
    ) -> DomainResult<Vec<ChecklistVersionText>> {
        let checklists: Vec<Uuid> = keys.iter().map(|(c, _)| c.as_uuid()).collect();
        let versions: Vec<i32> = keys.iter().map(|(_, v)| *v).collect();
        let found = checklist_version::Entity::find()
            .filter(checklist_version::Column::ChecklistId.is_in(checklists))
            .filter(checklist_version::Column::Version.is_in(versions))
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(found
            .into_iter()
            .filter(|v| keys.contains(&(ChecklistId::from_uuid(v.checklist_id), v.version)))
            .map(|v| {
                version_text(
                    ChecklistId::from_uuid(v.checklist_id),
                    v.version,
                    &v.content,
                )
            })
            .collect())
    }
}

fn operator_ref(o: operator::Model) -> OperatorRef {
    OperatorRef {
        id: OperatorId::from_uuid(o.id),
        key: OperatorKey {
            company_id: CompanyId::from_uuid(o.company_id),
            code: o.code,
        },
        name: o.name,
    }
}

/// Name and items of a version's `{"name", "segments": [{"items": [{"id", "text",
/// "critical"}]}]}`.
fn version_text(checklist_id: ChecklistId, version: i32, content: &Value) -> ChecklistVersionText {
    let items = content["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|segment| segment["items"].as_array().into_iter().flatten())
        .filter_map(|item| {
            Some(ChecklistItemText {
                id: item["id"].as_str()?.to_owned(),
                text: item["text"].as_str().unwrap_or_default().to_owned(),
                critical: item["critical"].as_bool().unwrap_or(false),
            })
        })
        .collect();
    ChecklistVersionText {
        checklist_id,
        version,
        name: content["name"].as_str().unwrap_or_default().to_owned(),
        items,
    }
}

/// Adds the scored calls' tally of each group to `select`: `calls`, `compliant`, `score_sum`.
fn with_score_tally(select: &mut SelectStatement) -> &mut SelectStatement {
    select
        .expr_as(rows_counted(), "calls")
        .expr_as(
            count_if(Expr::col(record::Column::ChecklistCompliant).eq(true)),
            "compliant",
        )
        .expr_as(
            Func::sum(Expr::col(record::Column::ChecklistScore)),
            "score_sum",
        )
}

/// The tally [`with_score_tally`] selected: calls, compliant calls, sum of scores.
fn score_tally(row: &QueryResult) -> DomainResult<(u64, u64, f64)> {
    Ok((
        count(row, "calls")?,
        count(row, "compliant")?,
        real(row, "score_sum")?,
    ))
}
