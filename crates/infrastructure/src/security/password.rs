use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use async_trait::async_trait;
use dialix_account::PasswordHasher;
use dialix_kernel::{DomainError, DomainResult};
use secrecy::{ExposeSecret, SecretString};

/// argon2id with the crate's defaults (19 MiB, 2 passes), run on the blocking pool so that a
/// burst of logins does not stall the async workers.
pub struct Argon2PasswordHasher {
    /// A real hash to verify against when no account matched, so both paths cost the same.
    decoy_hash: Arc<str>,
}

impl Argon2PasswordHasher {
    pub async fn new() -> DomainResult<Self> {
        let decoy = crate::security::random_token()?;
        let decoy_hash = hash_blocking(decoy).await?;
        Ok(Self {
            decoy_hash: decoy_hash.into(),
        })
    }
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &str) -> DomainResult<SecretString> {
        hash_blocking(password.to_owned())
            .await
            .map(SecretString::from)
    }

    async fn verify(&self, password: &str, hash: Option<SecretString>) -> DomainResult<bool> {
        let known = hash.is_some();
        let hash = hash.map_or_else(
            || self.decoy_hash.to_string(),
            |hash| hash.expose_secret().to_owned(),
        );
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .map_err(|e| DomainError::internal(format!("stored password hash is invalid: {e}")))
        })
        .await
        .map_err(DomainError::internal)??;
        Ok(known && matches)
    }
}

async fn hash_blocking(password: String) -> DomainResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| DomainError::internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(DomainError::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let hasher = Argon2PasswordHasher::new().await.unwrap();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hash.expose_secret().starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("correct horse", Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong horse", Some(hash)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
    }
}
