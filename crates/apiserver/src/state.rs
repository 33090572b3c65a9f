//! What every request handler shares.

use std::path::PathBuf;
use std::sync::Arc;

use crate::metrics::Metrics;
use crate::object_store::Objects;

pub struct AppState {
    pub objects: Objects,
    pub metrics: Metrics,
    /// `host:port` clients use, for legacy discovery.
    pub server_address: String,
    pub data_dir: PathBuf,
    /// Signs and verifies ServiceAccount tokens.
    pub signer: peapod_admission::TokenSigner,
    /// The cluster CA certificate, published as `kube-root-ca.crt` in every namespace.
    pub ca_pem: String,
    /// TLS client settings (with the server's client certificate) for node agents' streams.
    pub kubelet_client: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// The cluster CA, to issue node credentials.
    pub pki: Arc<crate::pki::Pki>,
    /// Token agents present to join (`DATA/node-token`).
    pub node_token: String,
}

pub type SharedState = Arc<AppState>;
