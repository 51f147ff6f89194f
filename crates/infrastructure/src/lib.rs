//! Adapters: the domain ports implemented with SeaORM (PostgreSQL or SQLite, chosen by the
//! URL at run time) including the transactional unit of work and the hash-chained activity
//! log, argon2id, HS256 JWTs and an in-process failed-login counter.

mod accounts;
mod audit;
mod companies;
mod database;
mod db_error;
mod entities;
mod refresh_tokens;
mod resource_access;
mod security;
mod transaction;

pub use accounts::SeaOrmAccounts;
pub use audit::SeaOrmAuditLog;
pub use companies::SeaOrmCompanies;
pub use database::Database;
pub use refresh_tokens::SeaOrmRefreshTokens;
pub use resource_access::SeaOrmResourceAccess;
pub use sea_orm::DbErr as DatabaseError;
pub use security::{Argon2PasswordHasher, InMemoryLoginAttempts, JwtAccessTokens, random_token};
pub use transaction::SeaOrmUnitOfWork;
