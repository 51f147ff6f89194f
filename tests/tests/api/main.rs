//! Integration tests through HTTP against the real server and database. `make test` runs this
//! suite twice: on SQLite and on PostgreSQL.

mod accounts;
mod activity_logs;
mod administrators;
mod auth;
mod catalog;
mod companies;
mod company_management;
mod errors;
mod grouping;
mod health;
mod openapi;
mod processing;
mod record_search;
mod records;
mod security;
mod settings;
mod trails;
mod users;
