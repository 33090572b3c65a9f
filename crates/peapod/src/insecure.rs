//! TLS client settings for joining: verified against the cluster CA once it is known; before
//! that (fetching the CA, whose hash the token pins) the certificate is not checked.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

pub fn client_config(ca: Option<&str>) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?;
    Ok(match ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(c?)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => peapod_agent::unverified_tls::client_config()?,
    })
}
