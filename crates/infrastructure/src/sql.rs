//! Small SQL helpers shared by the repositories: error mapping, LIKE patterns,
//! version-checked writes and hand-written statements.

use dialix_kernel::{DomainError, DomainResult, RowVersion};
use sea_orm::prelude::Expr;
use sea_orm::sea_query::{ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, SqlErr, Statement, UpdateMany,
    UpdateResult, Value,
};

/// Any database failure the domain cannot act on, kept as the cause of an internal error
/// (logged once, where the error ends: the request or the worker).
pub(crate) fn internal(error: DbErr) -> DomainError {
    DomainError::caused("database error", error)
}

/// Maps a unique-constraint violation to a conflict on `field`, anything else to internal.
pub(crate) fn conflict_on_unique(error: DbErr, field: &'static str, message: &str) -> DomainError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::conflict(field, message),
        _ => internal(error),
    }
}

/// A LIKE pattern matching `text` anywhere, with its own `%`, `_` and `\\` taken literally
/// (the same on both databases: SQLite has no default escape character).
pub(crate) fn like_pattern(text: &str) -> LikeExpr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Makes a whole-entity write conditional on the row still being at `read_at`, and bumps the
/// version: a write decided on a stale copy then matches no row (see [`landed`]).
pub(crate) fn versioned<E: EntityTrait>(
    update: UpdateMany<E>,
    column: E::Column,
    read_at: RowVersion,
) -> UpdateMany<E> {
    update
        .col_expr(column, Expr::value(read_at.next().0))
        .filter(column.eq(read_at.0))
}

/// Bumps the version in a bulk write, so that whole-entity writes decided before it fail.
pub(crate) fn bump_version<E: EntityTrait>(
    update: UpdateMany<E>,
    column: E::Column,
) -> UpdateMany<E> {
    update.col_expr(column, Expr::col(column).add(1))
}

/// A [`versioned`] write that matched no row: the row changed or went away since it was read.
pub(crate) fn landed(result: UpdateResult, entity: &'static str) -> DomainResult<()> {
    if result.rows_affected == 0 {
        Err(DomainError::Stale(entity))
    } else {
        Ok(())
    }
}

/// Hand-written SQL with its bound values, placeholders in the backend's syntax (`$n` or
/// `?`): for statements SeaORM's builder cannot express (window functions, row locks).
pub(crate) struct RawSql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl RawSql {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends SQL text (never user input: that goes through [`RawSql::bind`]).
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(v1, v2, …)` for a non-empty list.
    pub(crate) fn bind_list<V: Into<Value>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Unix milliseconds, as every time column stores them.
pub(crate) fn millis(at: time::OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}
