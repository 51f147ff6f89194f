//! A [`FigureScope`] as conditions on each table figures read, so every query narrows its
//! rows the same way.

use dialix_reporting::FigureScope;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::ColumnTrait;

use crate::entities::{checklist_verdict, ledger_transaction, record};

/// Live records of the scope.
#[allow(dead_code)]
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

/// Ledger entries of the scope (an owner's: the charges for their calls and questions).
#[allow(dead_code)]
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

/// Verdicts on the scope's live calls.
#[allow(dead_code)]
pub(crate) fn verdicts_in(scope: &FigureScope) -> Condition {
    let live_records = |condition: Condition| {
        Expr::col((checklist_verdict::Entity, checklist_verdict::Column::RecordId)).in_subquery(
            Query::select()
                .column(record::Column::Id)
                .from(record::Entity)
                .cond_where(condition)
                .to_owned(),
        )
    };
    match scope {
        FigureScope::All => Condition::all().add(live_records(records_in(scope))),
        FigureScope::Companies(companies) => Condition::all()
            .add(
                checklist_verdict::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())),
            )
            .add(live_records(records_in(scope))),
        FigureScope::Owner(_) => Condition::all().add(live_records(records_in(scope))),
    }
}
