//! The pieces every figure query is built from, written once: sums and counts that read the
//! same on both databases, the UTC slot series are grouped by, and reading grouped rows.

use dialix_kernel::DomainResult;
use dialix_reporting::SLOT_MS;
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Func, IntoColumnRef, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

use crate::Database;
use crate::sql::internal;

/// The rows of one aggregate statement (a read: the read pool on SQLite).
pub(super) async fn grouped_rows(
    db: &Database,
    statement: &SelectStatement,
) -> DomainResult<Vec<QueryResult>> {
    db.connection().query_all(statement).await.map_err(internal)
}

/// `COUNT(*)`, not `COUNT(id)`: naming a column the covering index lacks would make every
/// counted row a visit to the table on PostgreSQL.
pub(super) fn rows_counted() -> Expr {
    Expr::col(Asterisk).count()
}

/// `CAST(SUM(expr) AS BIGINT)`: PostgreSQL sums bigints as numeric.
pub(super) fn sum(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(Func::sum(expr), "BIGINT").into()
}

/// The rows matching `condition`, counted within one aggregate.
pub(super) fn count_if(condition: Expr) -> Expr {
    sum(Expr::case(condition, 1).finally(0))
}

/// `column / SLOT_MS`: the UTC quarter hour (a literal divisor, so the grouped and the
/// selected expression are the same on PostgreSQL).
pub(super) fn slot_of(column: impl IntoColumnRef) -> Expr {
    Expr::col(column).div(Expr::cust(SLOT_MS.to_string()))
}

/// An integer aggregate (`NULL`, as a sum over no rows is, reads as 0).
pub(super) fn int(row: &QueryResult, column: &str) -> DomainResult<i64> {
    Ok(row
        .try_get::<Option<i64>>("", column)
        .map_err(internal)?
        .unwrap_or(0))
}

/// A count (never negative).
pub(super) fn count(row: &QueryResult, column: &str) -> DomainResult<u64> {
    Ok(u64::try_from(int(row, column)?).unwrap_or(0))
}

/// A real-valued aggregate (`NULL` reads as 0).
pub(super) fn real(row: &QueryResult, column: &str) -> DomainResult<f64> {
    Ok(row
        .try_get::<Option<f64>>("", column)
        .map_err(internal)?
        .unwrap_or(0.0))
}
