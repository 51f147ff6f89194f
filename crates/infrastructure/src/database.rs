use std::path::Path;
use std::time::Duration;

use dialix_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr};

/// The connection pool, opened from a `sqlite://` or `postgres://` URL.
#[derive(Clone, Debug)]
pub struct Database {
    connection: DatabaseConnection,
}

impl Database {
    /// Opens the pool. For SQLite the file (and its folder) is created when missing, WAL and
    /// foreign keys are on, and the pool has a single connection: SQLite allows one writer, and
    /// one connection makes concurrent writers queue instead of failing with `SQLITE_BUSY`.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5));
        if url.starts_with("sqlite:") {
            ensure_sqlite_folder(url);
            options.max_connections(1).min_connections(1);
            options.map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        } else {
            options.max_connections(20).min_connections(1);
            // The API's statements are short; compiling one with LLVM (for a large estimated
            // cost, such as a company's grouping pass) takes longer than running it.
            options.map_sqlx_postgres_opts(|opts| opts.options([("jit", "off")]));
        }
        let connection = sea_orm::Database::connect(options).await?;
        Ok(Self { connection })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.connection, None).await
    }

    /// Whether the database answers right now.
    pub async fn ping(&self) -> bool {
        self.connection.ping().await.is_ok()
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.connection.close().await
    }

    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }
}

/// Creates the folder of a SQLite file URL (`sqlite://data/dialix.db?mode=rwc`), so that a
/// fresh checkout runs without setup.
fn ensure_sqlite_folder(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
        && let Err(error) = std::fs::create_dir_all(parent)
    {
        tracing::warn!(%error, folder = %parent.display(), "cannot create the SQLite folder");
    }
}
