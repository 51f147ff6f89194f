//! Every schema change of Dialix, in order. Migrations are portable between PostgreSQL and
//! SQLite: times are bigint Unix milliseconds (sorts and range-filters correctly on both),
//! ids are app-generated UUIDs, JSON is `json_binary`, enums are strings, money is bigint
//! minor units, and every migration runs in a transaction.

pub use m20261129_000015_record_changes::CHANNEL as RECORD_CHANGES_CHANNEL;
pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261126_000001_accounts_and_companies;
mod m20261126_000002_activity_log;
mod m20261126_000003_company_management;
mod m20261126_000004_records;
mod m20261126_000005_processing;
mod m20261126_000006_record_search;
mod m20261126_000007_operators_checklists;
mod m20261127_000008_row_versions;
mod m20261128_000009_call_grouping;
mod m20261128_000010_live_records_index;
mod m20261128_000011_records_search;
mod m20261128_000012_activity_log_listing_indexes;
mod m20261128_000013_administrator_grants_by_user;
mod m20261128_000014_login_failures;
mod m20261129_000015_record_changes;
mod m20261130_000016_chat;
mod m20261207_000017_chat_client_number;
mod m20261207_000018_chat_reservations;
mod m20261207_000019_reporting;
mod m20261207_000020_reporting_indexes;
mod m20261207_000021_integrations;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_accounts_and_companies::Migration),
            Box::new(m20261126_000002_activity_log::Migration),
            Box::new(m20261126_000003_company_management::Migration),
            Box::new(m20261126_000004_records::Migration),
            Box::new(m20261126_000005_processing::Migration),
            Box::new(m20261126_000006_record_search::Migration),
            Box::new(m20261126_000007_operators_checklists::Migration),
            Box::new(m20261127_000008_row_versions::Migration),
            Box::new(m20261128_000009_call_grouping::Migration),
            Box::new(m20261128_000010_live_records_index::Migration),
            Box::new(m20261128_000011_records_search::Migration),
            Box::new(m20261128_000012_activity_log_listing_indexes::Migration),
            Box::new(m20261128_000013_administrator_grants_by_user::Migration),
            Box::new(m20261128_000014_login_failures::Migration),
            Box::new(m20261129_000015_record_changes::Migration),
            Box::new(m20261130_000016_chat::Migration),
            Box::new(m20261207_000017_chat_client_number::Migration),
            Box::new(m20261207_000018_chat_reservations::Migration),
            Box::new(m20261207_000019_reporting::Migration),
            Box::new(m20261207_000020_reporting_indexes::Migration),
            Box::new(m20261207_000021_integrations::Migration),
        ]
    }
}
