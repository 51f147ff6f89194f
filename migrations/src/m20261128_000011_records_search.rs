//! Search in the records listing without scanning a company's calls: full-text search over
//! transcripts and partial phone numbers.
//!
//! - PostgreSQL: a stored `tsvector` of the transcript with the `simple` configuration
//!   (transcripts are Uzbek and Russian, which have no stemmer there: words are lower-cased,
//!   never stemmed), in a GIN index keyed by company first when `btree_gin` can be created;
//!   and a trigram index on the number when `pg_trgm` can be created (both ship with
//!   PostgreSQL, and both are "trusted", so a database owner may create them). Without an
//!   extension the same queries run, only without that index.
//! - SQLite: an FTS5 table (`unicode61`, no diacritics folding, as `simple` does not fold
//!   them either) kept by triggers. FTS rows need a stable integer key, and a table's implicit
//!   rowid is not stable (VACUUM may renumber it), so `record_search_key` gives every record
//!   one. Partial numbers are matched by a LIKE over the company's index range.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE record ADD COLUMN transcript_search tsvector \
                     GENERATED ALWAYS AS (to_tsvector('simple', coalesce(transcript_text, ''))) \
                     STORED",
                )
                .await?;
                let by_company = try_extension(db, "btree_gin").await?;
                let transcript_key = if by_company {
                    "company_id, transcript_search"
                } else {
                    "transcript_search"
                };
                db.execute_unprepared(&format!(
                    "CREATE INDEX idx_record_transcript_search ON record \
                     USING GIN ({transcript_key}) WHERE deleted_at IS NULL"
                ))
                .await?;
                if try_extension(db, "pg_trgm").await? {
                    let phone_key = if by_company {
                        "company_id, client_phone_number gin_trgm_ops"
                    } else {
                        "client_phone_number gin_trgm_ops"
                    };
                    db.execute_unprepared(&format!(
                        "CREATE INDEX idx_record_phone_trigram ON record USING GIN ({phone_key}) \
                         WHERE deleted_at IS NULL AND client_phone_number IS NOT NULL"
                    ))
                    .await?;
                }
                Ok(())
            }
            _ => {
                for statement in SQLITE_UP {
                    db.execute_unprepared(statement).await?;
                }
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared("DROP INDEX IF EXISTS idx_record_phone_trigram")
                    .await?;
                db.execute_unprepared("DROP INDEX IF EXISTS idx_record_transcript_search")
                    .await?;
                db.execute_unprepared("ALTER TABLE record DROP COLUMN transcript_search")
                    .await
                    .map(drop)
            }
            _ => {
                for statement in SQLITE_DOWN {
                    db.execute_unprepared(statement).await?;
                }
                Ok(())
            }
        }
    }
}

/// Creates the extension if the server has it and lets this user create it; a refusal is
/// rolled back to a savepoint, so the migration goes on without it.
async fn try_extension<C: ConnectionTrait>(db: &C, name: &str) -> Result<bool, DbErr> {
    let available = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT 1 AS one FROM pg_available_extensions WHERE name = $1",
            [name.into()],
        ))
        .await?
        .is_some();
    if !available {
        return Ok(false);
    }
    db.execute_unprepared("SAVEPOINT dialix_extension").await?;
    match db
        .execute_unprepared(&format!("CREATE EXTENSION IF NOT EXISTS {name}"))
        .await
    {
        Ok(_) => {
            db.execute_unprepared("RELEASE SAVEPOINT dialix_extension")
                .await?;
            Ok(true)
        }
        Err(_) => {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT dialix_extension")
                .await?;
            Ok(false)
        }
    }
}

const SQLITE_UP: [&str; 7] = [
    "CREATE TABLE record_search_key (\
       key INTEGER PRIMARY KEY, \
       record_id BLOB NOT NULL UNIQUE REFERENCES record (id) ON DELETE CASCADE)",
    "CREATE VIRTUAL TABLE record_transcript_fts USING fts5(\
       transcript_text, content = '', contentless_delete = 1, \
       tokenize = 'unicode61 remove_diacritics 0')",
    "INSERT INTO record_search_key (record_id) SELECT id FROM record",
    "INSERT INTO record_transcript_fts (rowid, transcript_text) \
       SELECT k.key, r.transcript_text FROM record r JOIN record_search_key k ON k.record_id = r.id \
       WHERE r.transcript_text IS NOT NULL",
    "CREATE TRIGGER record_search_insert AFTER INSERT ON record BEGIN \
       INSERT INTO record_search_key (record_id) VALUES (new.id); \
       INSERT INTO record_transcript_fts (rowid, transcript_text) \
         SELECT key, new.transcript_text FROM record_search_key \
         WHERE record_id = new.id AND new.transcript_text IS NOT NULL; \
     END",
    "CREATE TRIGGER record_search_update AFTER UPDATE OF transcript_text ON record BEGIN \
       DELETE FROM record_transcript_fts \
         WHERE rowid = (SELECT key FROM record_search_key WHERE record_id = old.id); \
       INSERT INTO record_transcript_fts (rowid, transcript_text) \
         SELECT key, new.transcript_text FROM record_search_key \
         WHERE record_id = new.id AND new.transcript_text IS NOT NULL; \
     END",
    // Before: the key row goes with the record (ON DELETE CASCADE).
    "CREATE TRIGGER record_search_delete BEFORE DELETE ON record BEGIN \
       DELETE FROM record_transcript_fts \
         WHERE rowid = (SELECT key FROM record_search_key WHERE record_id = old.id); \
     END",
];

const SQLITE_DOWN: [&str; 5] = [
    "DROP TRIGGER record_search_delete",
    "DROP TRIGGER record_search_update",
    "DROP TRIGGER record_search_insert",
    "DROP TABLE record_transcript_fts",
    "DROP TABLE record_search_key",
];
