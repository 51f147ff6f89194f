//! Cryptography and abuse protection behind the account ports.

mod access_tokens;
mod login_attempts;
mod password;

pub use access_tokens::JwtAccessTokens;
pub use login_attempts::SeaOrmLoginAttempts;
pub use password::Argon2PasswordHasher;

use dialix_kernel::{DomainError, DomainResult};
use sha2::{Digest, Sha256};

/// 256 random bits from the OS, as 64 hex characters: refresh tokens and generated secrets.
pub fn random_token() -> DomainResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::internal(format!("no randomness: {e}")))?;
    Ok(hex(&bytes))
}

pub(crate) fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hashes_are_sha256() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
