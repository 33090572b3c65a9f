//! TLS for the streaming server: our serving certificate, and client certificates required and
//! verified against the cluster CA (the API server presents its client certificate).

use std::io;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// Certificates and keys of the streaming server, all PEM.
#[derive(Debug, Clone, Default)]
pub struct ServerTls {
    /// CA that must have signed every client certificate.
    pub ca_pem: String,
    /// This server's certificate chain.
    pub cert_pem: String,
    /// This server's private key.
    pub key_pem: String,
    /// If non-empty, only client certificates whose subject CN is in this list are served
    /// (e.g. the API server's); others get 403. Empty: any certificate signed by the CA.
    pub allowed_common_names: Vec<String>,
}

fn invalid(what: &str, err: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {err}"))
}

fn certs(pem: &str, what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(what, e))?;
    if certs.is_empty() {
        return Err(invalid(what, "no certificate in PEM"));
    }
    Ok(certs)
}

/// Build the rustls configuration (HTTP/1.1 only: upgrades need it).
pub(crate) fn server_config(tls: &ServerTls) -> io::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in certs(&tls.ca_pem, "client CA")? {
        roots.add(ca).map_err(|e| invalid("client CA", e))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| invalid("client verifier", e))?;
    let key = rustls_pemfile::private_key(&mut tls.key_pem.as_bytes())
        .map_err(|e| invalid("server key", e))?
        .ok_or_else(|| invalid("server key", "no private key in PEM"))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("TLS versions", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&tls.cert_pem, "server certificate")?, key)
        .map_err(|e| invalid("server certificate", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The subject common name of a (verified) client certificate.
pub(crate) fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}
