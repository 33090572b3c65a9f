//! Issuing and verifying ES256-signed ServiceAccount JWTs.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{json, Value};

use super::claims::{Payload, TokenClaims, VerifiedToken, ISSUER};
use super::error::TokenError;
use super::keys::SigningKey;

/// Clock skew tolerated on `exp` and `nbf`, like the Kubernetes validator (go-jose's default).
const LEEWAY_SECONDS: i64 = 60;
const ALGORITHM: &str = "ES256";

/// Holds the ServiceAccount signing key; issues and verifies tokens.
pub struct TokenSigner {
    key: SigningKey,
    issuer: String,
}

impl TokenSigner {
    /// Loads the key from `dir/sa.key`, creating it (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<TokenSigner> {
        Ok(TokenSigner {
            key: SigningKey::load_or_create(dir)?,
            issuer: ISSUER.to_string(),
        })
    }

    /// The same signer with another issuer (`--service-account-issuer`).
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> TokenSigner {
        self.issuer = issuer.into();
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audiences the API server itself accepts: its issuer, as Kubernetes defaults them.
    pub fn api_audiences(&self) -> Vec<String> {
        vec![self.issuer.clone()]
    }

    /// Signs a token carrying `claims`, with a fresh `jti`.
    pub fn issue(&self, claims: TokenClaims) -> Result<String, TokenError> {
        let payload = Payload::new(claims, &self.issuer, uuid::Uuid::new_v4().to_string());
        let header = json!({"alg": ALGORITHM, "kid": self.key.key_id()});
        let payload = serde_json::to_vec(&payload).map_err(|_| TokenError::SigningFailed)?;
        self.sign(&header, &payload)
    }

    /// Signs an arbitrary header and payload (tests build odd but validly signed tokens).
    pub(crate) fn sign(&self, header: &Value, payload: &[u8]) -> Result<String, TokenError> {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self
            .key
            .pair
            .sign(&self.key.rng, signing_input.as_bytes())
            .map_err(|_| TokenError::SigningFailed)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Verifies signature, issuer, expiry and audience at the current time. `audiences` are the
    /// audiences the caller accepts; the token must name at least one of them (an empty list
    /// accepts any audience). Whether the ServiceAccount and bound objects still exist is checked
    /// separately with [`super::BoundObjects::validate`].
    pub fn verify(&self, token: &str, audiences: &[String]) -> Result<VerifiedToken, TokenError> {
        self.verify_at(token, audiences, Utc::now())
    }

    /// [`TokenSigner::verify`] at a given time.
    pub fn verify_at(
        &self,
        token: &str,
        audiences: &[String],
        now: DateTime<Utc>,
    ) -> Result<VerifiedToken, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed(
                "expected three dot-separated parts".into(),
            ));
        };
        let header: Value = decode_json(header, "header")?;
        let algorithm = header.get("alg").and_then(Value::as_str).unwrap_or("");
        if algorithm != ALGORITHM {
            return Err(TokenError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        if let Some(kid) = header.get("kid").and_then(Value::as_str) {
            if kid != self.key.key_id() {
                return Err(TokenError::UnknownKey);
            }
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed("signature is not base64url".into()))?;
        let signing_input_len = header_len(token) + 1 + payload.len();
        let signing_input = token.trim().get(..signing_input_len).unwrap_or_default();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.key_point())
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;

        let mut payload_json: Value = decode_json(payload, "payload")?;
        normalize_audience(&mut payload_json);
        let payload: Payload = serde_json::from_value(payload_json)
            .map_err(|e| TokenError::Malformed(format!("claims: {e}")))?;
        if payload.iss != self.issuer {
            return Err(TokenError::WrongIssuer(payload.iss));
        }
        let now = now.timestamp();
        if now > payload.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(TokenError::Expired);
        }
        if now < payload.nbf.saturating_sub(LEEWAY_SECONDS)
            || now < payload.iat.saturating_sub(LEEWAY_SECONDS)
        {
            return Err(TokenError::NotYetValid);
        }
        if !audiences.is_empty() && !payload.aud.iter().any(|a| audiences.contains(a)) {
            return Err(TokenError::WrongAudience {
                token: payload.aud,
                accepted: audiences.to_vec(),
            });
        }
        let expected_subject = format!(
            "system:serviceaccount:{}:{}",
            payload.kubernetes.namespace, payload.kubernetes.serviceaccount.name
        );
        if payload.sub != expected_subject {
            return Err(TokenError::Malformed(
                "subject does not match the kubernetes.io claim".into(),
            ));
        }
        Ok(VerifiedToken {
            namespace: payload.kubernetes.namespace,
            service_account: payload.kubernetes.serviceaccount,
            pod: payload.kubernetes.pod,
            secret: payload.kubernetes.secret,
            node: payload.kubernetes.node,
            audiences: payload.aud,
            issued_at: timestamp(payload.iat)?,
            expires_at: timestamp(payload.exp)?,
            warn_after: payload.kubernetes.warnafter.map(timestamp).transpose()?,
            id: payload.jti,
        })
    }

    /// The public key as PEM (SubjectPublicKeyInfo).
    pub fn public_key_pem(&self) -> String {
        self.key.public_key_pem()
    }

    /// `kid` of the tokens this signer issues.
    pub fn key_id(&self) -> String {
        self.key.key_id()
    }

    /// The JWK set served at `/openid/v1/jwks`.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.key.jwk()]})
    }

    /// The OpenID discovery document served at `/.well-known/openid-configuration`.
    pub fn openid_configuration(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/openid/v1/jwks", self.issuer.trim_end_matches('/')),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
        })
    }

    fn key_point(&self) -> &[u8] {
        self.key.public_point()
    }
}

fn header_len(token: &str) -> usize {
    token.trim().find('.').unwrap_or(0)
}

fn decode_json(part: &str, what: &str) -> Result<Value, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed(format!("{what} is not JSON")))
}

/// JWT allows `aud` as a single string; the payload type wants a list.
fn normalize_audience(payload: &mut Value) {
    if let Some(aud) = payload.get_mut("aud") {
        if let Value::String(single) = aud {
            *aud = Value::Array(vec![Value::String(std::mem::take(single))]);
        }
    }
}

fn timestamp(seconds: i64) -> Result<DateTime<Utc>, TokenError> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .ok_or_else(|| TokenError::Malformed(format!("timestamp {seconds} out of range")))
}
