//! Small SQL helpers shared by the repositories: error mapping and LIKE patterns.

use dialix_kernel::DomainError;
use sea_orm::sea_query::LikeExpr;
use sea_orm::{DbErr, SqlErr};

/// Any database failure the domain cannot act on: logged in full here, reported as internal.
pub(crate) fn internal(error: DbErr) -> DomainError {
    tracing::error!(%error, "database error");
    DomainError::internal(error)
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
