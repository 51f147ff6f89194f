use std::path::Path;
use std::time::Duration;

use dialix_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connections to the database, opened from a `sqlite://` or `postgres://` URL: a handle for
/// reads ([`Database::connection`]) and one for writes ([`Database::writer`]).
///
/// On PostgreSQL both are one pool. On SQLite (WAL) they are two pools on the same file: the
/// writer has a single connection, and every transaction and every write outside one goes
/// there, so concurrent writers queue instead of failing with `SQLITE_BUSY` (SQLite allows one
/// writer); the readers (`SQLITE_READERS`, read-only connections) run alongside each other
/// and alongside the writer. A reader's statement sees everything committed before it
/// started, so a read after a commit sees the commit; an open transaction's changes are seen
/// only through the transaction. An in-memory SQLite database belongs to one connection, so
/// there the writer serves the reads as well.
#[derive(Clone, Debug)]
pub struct Database {
    reader: DatabaseConnection,
    writer: DatabaseConnection,
    /// `reader` is a pool of its own (SQLite on a file), closed with the writer.
    separate_reader: bool,
}

/// Read-only connections of a SQLite file.
const SQLITE_READERS: u32 = 4;

impl Database {
    /// Opens the pools. For SQLite the file (and its folder) is created when missing, and WAL
    /// and foreign keys are on.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        if !url.starts_with("sqlite:") {
            let mut options = options(url);
            options.max_connections(20).min_connections(1);
            // The API's statements are short; compiling one with LLVM (for a large estimated
            // cost, such as a company's grouping pass) takes longer than running it. A
            // transcript search by word start gathers every matching row of all companies in
            // a bitmap before narrowing to the company; at the default 4 MB of `work_mem` the
            // bitmap turns lossy and thousands of rows are re-read to be checked again.
            options.map_sqlx_postgres_opts(|opts| {
                opts.options([("jit", "off"), ("work_mem", "16MB")])
            });
            let pool = sea_orm::Database::connect(options).await?;
            return Ok(Self {
                reader: pool.clone(),
                writer: pool,
                separate_reader: false,
            });
        }
        ensure_sqlite_folder(url);
        // The writer opens (and creates) the file first and puts it in WAL mode, which is
        // stored in the file: the readers find it so.
        let mut writer = options(url);
        writer.max_connections(1).min_connections(1);
        writer.map_sqlx_sqlite_opts(|opts| {
            sqlite_pragmas(opts)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
        });
        let writer = sea_orm::Database::connect(writer).await?;
        if sqlite_in_memory(url) {
            return Ok(Self {
                reader: writer.clone(),
                writer,
                separate_reader: false,
            });
        }
        let mut reader = options(url);
        reader.max_connections(SQLITE_READERS).min_connections(1);
        reader.map_sqlx_sqlite_opts(|opts| sqlite_pragmas(opts).read_only(true));
        let reader = match sea_orm::Database::connect(reader).await {
            Ok(reader) => reader,
            Err(error) => {
                writer.close().await.ok();
                return Err(error);
            }
        };
        Ok(Self {
            reader,
            writer,
            separate_reader: true,
        })
    }

    /// Applies every pending migration (on the writer).
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.writer, None).await
    }

    /// Whether the database answers reads right now.
    pub async fn ping(&self) -> bool {
        self.reader.ping().await.is_ok()
    }

    pub async fn close(self) -> Result<(), DbErr> {
        // The writer last: on SQLite the last connection to close checkpoints the WAL, which
        // a read-only one cannot do.
        let readers = match self.separate_reader {
            true => self.reader.close().await,
            false => Ok(()),
        };
        let writer = self.writer.close().await;
        readers.and(writer)
    }

    /// The handle for reads outside a transaction. On SQLite it cannot write.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// The handle for transactions and for writes outside one, and for a read that decides a
    /// write and must queue behind the writes before it (on SQLite: the one writer
    /// connection).
    pub(crate) fn writer(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Opens a transaction on the writer. On SQLite it takes the write lock at `BEGIN`
    /// (`BEGIN IMMEDIATE`), waiting up to the busy timeout: a transaction that reads first and
    /// writes later would otherwise fail at once with "database is locked" when another
    /// process (a `dialix worker` beside `dialix serve`) wrote in between.
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.writer
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// The PostgreSQL pool itself, for what SeaORM does not do (listening for
    /// notifications); `None` on SQLite.
    pub(crate) fn postgres_pool(&self) -> Option<&PgPool> {
        (self.writer.get_database_backend() == DbBackend::Postgres)
            .then(|| self.writer.get_postgres_connection_pool())
    }
}

/// What every pool shares.
fn options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5));
    options
}

/// What every SQLite connection shares.
fn sqlite_pragmas(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.busy_timeout(Duration::from_secs(5))
}

/// `sqlite::memory:`, `sqlite://:memory:` or `…?mode=memory`: a database that lives in one
/// connection.
fn sqlite_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
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

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

    use super::*;

    async fn count(db: &DatabaseConnection) -> i64 {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    #[tokio::test]
    async fn sqlite_reads_run_beside_the_writer_and_see_what_it_committed() {
        let folder = std::env::temp_dir().join(format!("dialix-db-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}/test.db?mode=rwc", folder.display());
        let db = Database::connect(&url).await.unwrap();
        let writer = db.writer();
        writer
            .execute_unprepared("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let reader = db.connection();
        assert_eq!(count(reader).await, 1, "a read sees an earlier commit");
        let mode = reader
            .query_one_raw(Statement::from_string(
                reader.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mode.try_get_by_index::<String>(0).unwrap(), "wal");
        assert!(
            reader
                .execute_unprepared("INSERT INTO t VALUES (2)")
                .await
                .is_err(),
            "readers cannot write"
        );

        // A transaction holds the writer; reads go on without waiting, and without its
        // uncommitted row.
        let tx = writer.begin().await.unwrap();
        tx.execute_unprepared("INSERT INTO t VALUES (3)")
            .await
            .unwrap();
        let during = tokio::time::timeout(Duration::from_secs(2), count(reader)).await;
        assert_eq!(during.ok(), Some(1));
        tx.commit().await.unwrap();
        assert_eq!(count(reader).await, 2);

        db.close().await.unwrap();
        std::fs::remove_dir_all(folder).ok();
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_database_is_read_through_its_writer() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.writer()
            .execute_unprepared("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        assert_eq!(count(db.connection()).await, 1);
        db.close().await.unwrap();
    }
}
