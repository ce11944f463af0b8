//! Access tokens (HS256 JWTs with pinned algorithm, issuer, audience and expiry) and opaque
//! refresh tokens (random, stored only as SHA-256 hashes).

use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::JwtConfig;
use crate::domain::Role;
use crate::error::ApiError;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string.
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The user's session generation when issued; bumping it ends every live token.
    pub gen: i32,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
}

impl TokenKeys {
    pub fn new(config: &JwtConfig) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(config.secret.expose())?,
            decoding: DecodingKey::from_secret(config.secret.expose())?,
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl_secs: i64::try_from(config.access_ttl.as_secs()).unwrap_or(900),
            refresh_ttl_secs: i64::try_from(config.refresh_ttl.as_secs()).unwrap_or(30 * 86_400),
        })
    }

    pub fn issue(&self, user_id: i32, role: Role, generation: i32) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iat: now,
            exp: now + self.access_ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: random_token(16),
            gen: generation,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("signing a token failed: {e}")))
    }

    /// Checks signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let detail = match e.kind() {
                    ErrorKind::ExpiredSignature => "the access token has expired",
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        "the access token was not issued for this service"
                    }
                    _ => "the access token is invalid",
                };
                ApiError::invalid_token(detail)
            })
    }
}

/// A URL-safe random string carrying `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(buf.as_mut_slice());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// How a refresh token is stored: its SHA-256, hex-encoded.
pub fn hash_refresh_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use std::time::Duration;

    fn keys(secret: &str, issuer: &str) -> TokenKeys {
        TokenKeys::new(&JwtConfig {
            secret: Secret::new(secret.as_bytes().to_vec()),
            issuer: issuer.into(),
            audience: "newsroom".into(),
            access_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(3600),
        })
        .unwrap()
    }

    const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes";

    #[test]
    fn issued_tokens_verify() {
        let keys = keys(SECRET, "newsroom");
        let token = keys.issue(7, Role::Editor, 3).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.role, Role::Editor);
        assert_eq!(claims.gen, 3);
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn other_secrets_and_issuers_are_rejected() {
        let token = keys(SECRET, "newsroom").issue(7, Role::Admin, 0).unwrap();
        assert!(keys("another-secret-of-at-least-32-bytes!", "newsroom")
            .verify(&token)
            .is_err());
        assert!(keys(SECRET, "elsewhere").verify(&token).is_err());
    }

    #[test]
    fn refresh_hashes_are_stable_hex() {
        let hash = hash_refresh_token("abc");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, hash_refresh_token("abc"));
        assert_ne!(random_token(32), random_token(32));
    }
}
