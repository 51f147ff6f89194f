//! Adapters: the domain ports implemented with SeaORM (PostgreSQL or SQLite, chosen by the
//! URL at run time), argon2id, HS256 JWTs and an in-process failed-login counter.

mod accounts;
mod companies;
mod database;
mod db_error;
mod entities;
mod refresh_tokens;
mod security;

pub use accounts::SeaOrmAccounts;
pub use companies::SeaOrmCompanies;
pub use database::Database;
pub use refresh_tokens::SeaOrmRefreshTokens;
pub use sea_orm::DbErr as DatabaseError;
pub use security::{Argon2PasswordHasher, InMemoryLoginAttempts, JwtAccessTokens, random_token};
