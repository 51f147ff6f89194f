use dialix_account::{AccessClaims, AccessTokens};
use dialix_kernel::{AccountId, DomainError, DomainResult};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// HS256 JWTs. Expiry is checked against the domain clock (not the system clock, and with no
/// leeway), so tests that pin time see exactly what production sees.
pub struct JwtAccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The session (refresh-token family) the token belongs to: it dies with the session.
    sid: Uuid,
    iat: i64,
    exp: i64,
}

impl JwtAccessTokens {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["sub", "exp", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

impl AccessTokens for JwtAccessTokens {
    fn issue(&self, claims: &AccessClaims) -> DomainResult<String> {
        let claims = Claims {
            sub: claims.account_id.as_uuid(),
            sid: claims.session,
            iat: claims.issued_at.unix_timestamp(),
            exp: claims.expires_at.unix_timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::internal(format!("cannot sign a token: {e}")))
    }

    fn verify(&self, token: &str, now: OffsetDateTime) -> DomainResult<AccessClaims> {
        let invalid = || DomainError::Unauthenticated("invalid access token".into());
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?
            .claims;
        let issued_at = OffsetDateTime::from_unix_timestamp(claims.iat).map_err(|_| invalid())?;
        let expires_at = OffsetDateTime::from_unix_timestamp(claims.exp).map_err(|_| invalid())?;
        if expires_at <= now {
            return Err(DomainError::Unauthenticated("access token expired".into()));
        }
        Ok(AccessClaims {
            account_id: AccountId::from_uuid(claims.sub),
            session: claims.sid,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    fn claims() -> AccessClaims {
        AccessClaims {
            account_id: AccountId::generate(),
            session: Uuid::now_v7(),
            issued_at: NOW,
            expires_at: NOW + Duration::minutes(15),
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let tokens = JwtAccessTokens::new(b"secret");
        let claims = claims();
        let token = tokens.issue(&claims).unwrap();
        assert_eq!(tokens.verify(&token, NOW).unwrap(), claims);
        assert!(tokens.verify(&token, NOW + Duration::minutes(15)).is_err());
    }

    #[test]
    fn a_token_signed_with_another_key_or_edited_is_refused() {
        let token = JwtAccessTokens::new(b"other").issue(&claims()).unwrap();
        let tokens = JwtAccessTokens::new(b"secret");
        assert!(tokens.verify(&token, NOW).is_err());
        let good = tokens.issue(&claims()).unwrap();
        let mut tampered = good.clone();
        tampered.insert(good.find('.').unwrap() + 2, 'x');
        assert!(tokens.verify(&tampered, NOW).is_err());
    }
}
