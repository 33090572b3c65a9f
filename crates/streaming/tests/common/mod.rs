//! Shared fixtures: certificates, a backend running real local processes, a real network
//! namespace with an echo server, and TLS/WebSocket/HTTP clients.
#![allow(dead_code)]

pub mod backend;
pub mod certs;
pub mod client;
pub mod netns;

use std::net::SocketAddr;
use std::sync::Arc;

use peapod_streaming::{serve, ServerTls};
use tokio::task::JoinHandle;

pub use backend::TestBackend;
pub use certs::TestCerts;

/// A running streaming server on 127.0.0.1 with its certificates and backend.
pub struct Harness {
    pub addr: SocketAddr,
    pub certs: TestCerts,
    pub backend: Arc<TestBackend>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Harness {
    pub async fn start(backend: TestBackend, allowed_common_names: Vec<String>) -> Self {
        let certs = TestCerts::generate();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let backend = Arc::new(backend);
        let tls = ServerTls {
            ca_pem: certs.ca_pem.clone(),
            cert_pem: certs.server_cert_pem.clone(),
            key_pem: certs.server_key_pem.clone(),
            allowed_common_names,
        };
        let server = tokio::spawn(serve(listener, tls, backend.clone()));
        Harness {
            addr,
            certs,
            backend,
            server,
        }
    }
}
