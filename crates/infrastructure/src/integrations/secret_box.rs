//! AES-256-GCM sealing of the integration credentials with the deployment's
//! `DIALIX_SECRETS_KEY`: a leaked database row alone reveals no API key or webhook.

use dialix_integrations::SecretBox;
use dialix_kernel::{DomainError, DomainResult};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// Seals with a fresh random nonce per secret; sealed bytes are `nonce || ciphertext || tag`.
pub struct AesGcmSecretBox {
    key: LessSafeKey,
    random: SystemRandom,
}

impl AesGcmSecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte key fits AES-256-GCM");
        Self {
            key: LessSafeKey::new(unbound),
            random: SystemRandom::new(),
        }
    }
}

impl SecretBox for AesGcmSecretBox {
    fn seal(&self, plaintext: &[u8]) -> DomainResult<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| DomainError::internal("no random nonce for sealing a secret"))?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut in_out,
            )
            .map_err(|_| DomainError::internal("sealing a secret failed"))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + in_out.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    fn open(&self, sealed: &[u8]) -> DomainResult<Vec<u8>> {
        let refused = || {
            DomainError::internal(
                "a stored secret cannot be opened: it was sealed with another \
                 DIALIX_SECRETS_KEY or has been altered",
            )
        };
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(refused());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut in_out)
            .map_err(|_| refused())?;
        Ok(plaintext.to_vec())
    }
}

/// The secrets key from its configured form: exactly 64 hexadecimal characters (32 bytes).
pub fn parse_secrets_key(value: &str) -> Result<[u8; 32], String> {
    let value = value.trim();
    if value.len() != 64 {
        return Err(format!(
            "the secrets key must be 64 hexadecimal characters (32 bytes), not {}",
            value.chars().count()
        ));
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(value.as_bytes().chunks_exact(2)) {
        let high = hex_digit(pair[0]);
        let low = hex_digit(pair[1]);
        match (high, low) {
            (Some(high), Some(low)) => *byte = high << 4 | low,
            _ => return Err("the secrets key must contain only hexadecimal characters".into()),
        }
    }
    Ok(key)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn secret_box() -> AesGcmSecretBox {
        AesGcmSecretBox::new(parse_secrets_key(KEY).expect("a valid key"))
    }

    #[test]
    fn sealed_secrets_open_to_the_plaintext() {
        let sealed = secret_box().seal(b"api-key-123").expect("sealed");
        assert_eq!(secret_box().open(&sealed).expect("opened"), b"api-key-123");
        assert!(!sealed.windows(11).any(|w| w == b"api-key-123"));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let secrets = secret_box();
        let first = secrets.seal(b"same").expect("sealed");
        let second = secrets.seal(b"same").expect("sealed");
        assert_ne!(first, second);
        assert_ne!(first[..NONCE_LEN], second[..NONCE_LEN]);
    }

    #[test]
    fn altered_bytes_do_not_open() {
        let secrets = secret_box();
        let sealed = secrets.seal(b"webhook").expect("sealed");
        for position in [0, NONCE_LEN, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[position] ^= 0x01;
            assert!(matches!(
                secrets.open(&altered),
                Err(DomainError::Internal(_))
            ));
        }
        assert!(matches!(
            secrets.open(&sealed[..NONCE_LEN + 3]),
            Err(DomainError::Internal(_))
        ));
        assert!(secrets.open(&[]).is_err());
    }

    #[test]
    fn another_key_does_not_open() {
        let sealed = secret_box().seal(b"webhook").expect("sealed");
        let other = AesGcmSecretBox::new([7u8; 32]);
        let error = other.open(&sealed).expect_err("a foreign key is refused");
        assert!(error.to_string().contains("DIALIX_SECRETS_KEY"), "{error}");
    }

    #[test]
    fn keys_are_64_hex_characters() {
        let key = parse_secrets_key(&KEY.to_uppercase()).expect("upper case is fine");
        assert_eq!(key[1], 1);
        assert_eq!(key[31], 0x1f);
        assert!(parse_secrets_key("").is_err());
        assert!(parse_secrets_key(&KEY[..62]).is_err());
        assert!(parse_secrets_key(&format!("{KEY}00")).is_err());
        assert!(parse_secrets_key(&format!("{}zz", &KEY[..62])).is_err());
        assert!(parse_secrets_key(&format!("{}é", &KEY[..62])).is_err());
    }
}
