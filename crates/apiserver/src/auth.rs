//! Authentication: a client certificate signed by the cluster CA (user from CN, groups from
//! O, as Kubernetes reads them) or a bearer token from the token file.

use std::collections::HashMap;
use std::sync::RwLock;

use rustls::pki_types::CertificateDer;

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
}

/// The identity in a verified client certificate.
pub fn from_certificate(cert: &CertificateDer<'_>) -> Option<Identity> {
    let (_, x509) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = x509.subject();
    let user = subject
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(String::from))
        .collect();
    Some(Identity { user, groups })
}

/// Static bearer tokens (the admin token; node and service-account tokens come later).
#[derive(Default)]
pub struct Tokens {
    tokens: RwLock<HashMap<String, Identity>>,
}

impl Tokens {
    pub fn insert(&self, token: String, id: Identity) {
        if let Ok(mut t) = self.tokens.write() {
            t.insert(token, id);
        }
    }

    pub fn lookup(&self, header: Option<&str>) -> Option<Identity> {
        let token = header?.strip_prefix("Bearer ")?.trim();
        self.tokens.read().ok()?.get(token).cloned()
    }
}
