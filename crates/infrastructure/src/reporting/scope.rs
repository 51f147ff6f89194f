//! A [`FigureScope`] as conditions on each table figures read, so every query narrows its
//! rows the same way.

use dialix_reporting::FigureScope;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};

use crate::entities::{checklist_verdict, ledger_transaction, record};

/// Live records of the scope.
pub(crate) fn records_in(scope: &FigureScope) -> Condition {
    let live = Condition::all().add(record::Column::DeletedAt.is_null());
    match scope {
        FigureScope::All => live,
        FigureScope::Companies(companies) => {
            live.add(record::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())))
        }
        FigureScope::Owner(owner) => live.add(record::Column::OwnerId.eq(owner.as_uuid())),
    }
}

/// Live records of the scope whose call falls in `[from_ms, to_ms)`.
pub(crate) fn calls_between(scope: &FigureScope, from_ms: i64, to_ms: i64) -> Condition {
    records_in(scope)
        .add(record::Column::CallAt.gte(from_ms))
        .add(record::Column::CallAt.lt(to_ms))
}

/// Ledger entries of the scope (an owner's: the charges for their calls and questions).
pub(crate) fn ledger_in(scope: &FigureScope) -> Condition {
    match scope {
        FigureScope::All => Condition::all(),
        FigureScope::Companies(companies) => Condition::all().add(
            ledger_transaction::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())),
        ),
        FigureScope::Owner(owner) => {
            Condition::all().add(ledger_transaction::Column::OwnerId.eq(owner.as_uuid()))
        }
    }
}

/// Verdicts on the scope's live calls made in `[from_ms, to_ms)` that also meet `calls` (a
/// condition on `record`, e.g. an operator; `Condition::all()` for none). The live-call check
/// reads only that range of records (a verdict's `call_at` is its call's), so it costs the
/// period's calls, not the scope's whole history, and needs no join.
pub(crate) fn verdicts_in(
    scope: &FigureScope,
    from_ms: i64,
    to_ms: i64,
    calls: Condition,
) -> Condition {
    let live_records = Expr::col((
        checklist_verdict::Entity,
        checklist_verdict::Column::RecordId,
    ))
    .in_subquery(
        Query::select()
            .column(record::Column::Id)
            .from(record::Entity)
            .cond_where(calls_between(scope, from_ms, to_ms).add(calls))
            .to_owned(),
    );
    let in_range = Condition::all()
        .add(checklist_verdict::Column::CallAt.gte(from_ms))
        .add(checklist_verdict::Column::CallAt.lt(to_ms));
    match scope {
        FigureScope::Companies(companies) => in_range
            .add(checklist_verdict::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())))
            .add(live_records),
        FigureScope::All | FigureScope::Owner(_) => in_range.add(live_records),
    }
}
