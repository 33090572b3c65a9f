//! The ServiceAccount signing key: an ECDSA P-256 key (JWT `ES256`, which Kubernetes accepts for
//! service account keys) stored as PKCS#8 PEM in the data directory and reused across restarts.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// File name of the private key inside the directory given to `load_or_create`.
pub const KEY_FILE: &str = "sa.key";
/// File name of the public key written next to it (for humans and external verifiers).
pub const PUBLIC_KEY_FILE: &str = "sa.pub";

const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point: the algorithm
/// identifier (id-ecPublicKey, prime256v1) and the BIT STRING header for 65 bytes.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub(crate) struct SigningKey {
    pub(crate) pair: EcdsaKeyPair,
    pub(crate) rng: SystemRandom,
}

impl SigningKey {
    /// Loads `dir/sa.key`, or generates a key and writes it (mode 0600) when the file is absent.
    /// An existing file that cannot be used is an error: silently replacing it would invalidate
    /// every token already handed out.
    pub(crate) fn load_or_create(dir: &Path) -> anyhow::Result<SigningKey> {
        let rng = SystemRandom::new();
        let key_path = dir.join(KEY_FILE);
        let pkcs8 = match fs::read_to_string(&key_path) {
            Ok(pem) => decode_pem(&pem, PRIVATE_KEY_LABEL)
                .with_context(|| format!("reading service account key {}", key_path.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| anyhow!("generating the service account key failed"))?;
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                write_private(&key_path, &encode_pem(document.as_ref(), PRIVATE_KEY_LABEL))?;
                document.as_ref().to_vec()
            }
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", key_path.display()));
            }
        };
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .map_err(|e| anyhow!("{}: not a PKCS#8 ECDSA P-256 key ({e})", key_path.display()))?;
        let key = SigningKey { pair, rng };
        // The public half is derived data: rewrite it every time so it always matches.
        let public_path = dir.join(PUBLIC_KEY_FILE);
        fs::write(&public_path, key.public_key_pem())
            .with_context(|| format!("writing {}", public_path.display()))?;
        Ok(key)
    }

    /// The uncompressed public point (0x04 || X || Y).
    pub(crate) fn public_point(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    pub(crate) fn public_key_der(&self) -> Vec<u8> {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.public_point());
        der
    }

    pub(crate) fn public_key_pem(&self) -> String {
        encode_pem(&self.public_key_der(), PUBLIC_KEY_LABEL)
    }

    /// The key id Kubernetes puts in the JWT header: unpadded base64url of the SHA-256 of the
    /// DER-encoded public key.
    pub(crate) fn key_id(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.public_key_der());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The public key as a JWK, as served at `/openid/v1/jwks`.
    pub(crate) fn jwk(&self) -> serde_json::Value {
        let point = self.public_point();
        let (x, y) = point
            .get(1..)
            .unwrap_or_default()
            .split_at(point.len().saturating_sub(1) / 2);
        serde_json::json!({
            "use": "sig",
            "kty": "EC",
            "kid": self.key_id(),
            "crv": "P-256",
            "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        })
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    // Write to a temporary name and rename, so a crash never leaves a truncated key behind.
    let temporary = path.with_extension("key.tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    fs::rename(&temporary, path).with_context(|| format!("installing {}", path.display()))
}

pub(crate) fn encode_pem(der: &[u8], label: &str) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

pub(crate) fn decode_pem(pem: &str, label: &str) -> anyhow::Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = pem.find(&begin) else {
        if let Some(other) = pem.lines().find(|l| l.starts_with("-----BEGIN ")) {
            bail!("expected a PKCS#8 \"{label}\" PEM block, found {other}");
        }
        bail!("no \"{label}\" PEM block found");
    };
    let rest = &pem[start + begin.len()..];
    let Some(stop) = rest.find(&end) else {
        bail!("unterminated \"{label}\" PEM block");
    };
    let body: String = rest[..stop].split_whitespace().collect();
    STANDARD
        .decode(body)
        .map_err(|e| anyhow!("invalid base64 in PEM block: {e}"))
}
