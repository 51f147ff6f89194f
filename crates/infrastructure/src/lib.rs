//! Adapters: the domain ports implemented with SeaORM (PostgreSQL or SQLite, chosen by the
//! URL at run time) including the transactional unit of work and the hash-chained activity
//! log, argon2id, HS256 JWTs and an in-process failed-login counter.

mod accounts;
mod administrators;
mod audio_copy;
mod audio_location;
mod audio_probe;
mod audio_store;
mod audit;
mod billing;
mod catalog;
mod chats;
mod companies;
mod company_tree;
mod database;
mod entities;
mod grouping;
mod integrations;
mod jobs;
mod ledger;
mod membership;
mod processing_context;
mod providers;
mod record_changes;
mod records;
mod refresh_tokens;
mod reporting;
mod resource_access;
mod retention;
mod s3_audio_store;
mod security;
mod settings;
mod sql;
mod transaction;

pub use accounts::SeaOrmAccounts;
pub use administrators::SeaOrmAdministrators;
pub use audio_copy::{CopyProgress, copy_audio};
pub use audio_location::AudioLocation;
pub use audio_probe::SymphoniaProbe;
pub use audio_store::FsAudioStore;
pub use audit::SeaOrmAuditLog;
pub use billing::SeaOrmBilling;
pub use catalog::SeaOrmCatalog;
pub use chats::SeaOrmChats;
pub use companies::SeaOrmCompanies;
pub use company_tree::SeaOrmCompanyTree;
pub use database::Database;
pub use grouping::SeaOrmCallGroups;
pub use integrations::*;
pub use jobs::SeaOrmJobQueue;
pub use ledger::SeaOrmLedger;
pub use membership::SeaOrmMembership;
pub use processing_context::SeaOrmProcessingContext;
pub use providers::{
    ChatEndpoint, HttpPolicy, MohirAiTranscriber, OpenAiChat, OpenAiTranscriber,
    install_tls_provider,
};
pub use record_changes::{PgRecordChanges, PolledRecordChanges};
pub use records::SeaOrmRecords;
pub use refresh_tokens::SeaOrmRefreshTokens;
pub use reporting::{SeaOrmComplianceFigures, SeaOrmDashboardFigures, SeaOrmUsageFigures};
pub use resource_access::SeaOrmResourceAccess;
pub use retention::SeaOrmRetention;
pub use s3_audio_store::{S3AudioStore, S3Location};
pub use sea_orm::DbErr as DatabaseError;
pub use security::{Argon2PasswordHasher, JwtAccessTokens, SeaOrmLoginAttempts, random_token};
pub use settings::SeaOrmSettings;
pub use transaction::SeaOrmUnitOfWork;
