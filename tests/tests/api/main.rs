//! Integration tests through HTTP against the real server and database. `make test` runs this
//! suite twice: on SQLite and on PostgreSQL.

mod accounts;
mod activity_logs;
mod administrators;
mod analytics;
mod audio_store;
mod auth;
mod catalog;
mod chat;
mod companies;
mod company_management;
mod compliance;
mod dashboard;
mod errors;
mod grouping;
mod health;
mod integration_adapters;
mod integrations;
mod monitoring;
mod multi_process;
mod openapi;
mod processing;
mod record_events;
mod record_search;
mod records;
mod security;
mod settings;
mod shutdown;
mod trails;
mod users;
