//! SeaORM entities: one module per table. Times are `TimeUnixTimestampMillis` (bigint) so
//! they sort and compare correctly on SQLite as well as PostgreSQL.

pub(crate) mod account;
pub(crate) mod activity_log;
pub(crate) mod audit_chain;
pub(crate) mod chat_message;
pub(crate) mod chat_reservation;
pub(crate) mod chat_session;
pub(crate) mod checklist;
pub(crate) mod checklist_verdict;
pub(crate) mod checklist_version;
pub(crate) mod company;
pub(crate) mod company_administrator;
pub(crate) mod integration;
pub(crate) mod ledger_transaction;
pub(crate) mod login_failure;
pub(crate) mod operator;
pub(crate) mod pbx_auto_import;
pub(crate) mod processing_job;
pub(crate) mod record;
pub(crate) mod refresh_token;
pub(crate) mod user_company_history;
pub(crate) mod user_settings;
