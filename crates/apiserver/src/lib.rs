//! The peapod API server: the Kubernetes REST API over HTTPS, backed by the store.
//!
//! Map: `registry` (what is served) → `request` (path → target) → `handlers` (HTTP in and
//! out of the verbs) → `storage` (the write pipeline: admission, validation, compare-and-swap)
//! → `object_store` (keys, encoding, resourceVersion over the `peapod_store` trait).
//! `object_meta` reads and edits objects as JSON.
//! `discovery`, `openapi`, `tables` serve kubectl; `pki`, `auth`, `listener` secure it.

mod admission;
pub mod auth;
mod body;
mod bootstrap;
mod discovery;
mod errors;
mod filter;
mod handlers;
mod join;
mod listener;
mod metrics;
mod object_meta;
mod object_store;
mod openapi;
pub mod pki;
mod proxy;
mod query;
mod raw_json;
pub mod registry;
mod request;
mod respond;
mod state;
mod storage;
mod tables;
mod version;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use peapod_store::SqliteStore;

pub use state::{AppState, SharedState};

/// The CA hash format node tokens carry (`PP10<hash>::<secret>`).
pub fn join_hash(ca_pem: &[u8]) -> String {
    join::sha256_hex(ca_pem)
}

pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub bind_address: IpAddr,
    pub port: u16,
    /// Revisions of watch history kept before compaction (None: the store's default).
    pub store_history: Option<i64>,
    /// The `kubernetes` Service's cluster IP: the first address of the service CIDR.
    pub kubernetes_service_ip: Ipv4Addr,
    /// The address the `kubernetes` Endpoints list for this server.
    pub advertise_address: IpAddr,
}

/// The first address of k3s's default service CIDR (10.43.0.0/16).
pub const DEFAULT_KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 43, 0, 1);

impl ServerConfig {
    /// A server on 127.0.0.1 with an ephemeral port, as tests use.
    pub fn local(data_dir: PathBuf) -> Self {
        ServerConfig {
            data_dir,
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            store_history: None,
            kubernetes_service_ip: DEFAULT_KUBERNETES_SERVICE_IP,
            advertise_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }
}

/// A running server.
pub struct Server {
    pub state: SharedState,
    pub addr: SocketAddr,
    pub kubeconfig: PathBuf,
}

impl Server {
    /// Credentials for a node agent: a client certificate (CN=`system:node:<name>`) and a
    /// serving certificate for its streaming port at `ips`.
    pub fn node_credentials(
        &self,
        node: &str,
        ips: &[IpAddr],
    ) -> anyhow::Result<(pki::CertPair, pki::CertPair)> {
        let client = self
            .state
            .pki
            .issue_client(&format!("system:node:{node}"), &["system:nodes"])?;
        let serving = self
            .state
            .pki
            .issue_server(&[node.to_string(), "localhost".into()], ips)?;
        Ok((client, serving))
    }

    pub fn ca_pem(&self) -> &str {
        &self.state.ca_pem
    }
}

/// Opens the store, makes or loads the PKI, writes the admin kubeconfig, binds and serves.
pub async fn start(cfg: ServerConfig) -> anyhow::Result<Server> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("create data dir {}", cfg.data_dir.display()))?;
    let db_dir = cfg.data_dir.join("db");
    std::fs::create_dir_all(&db_dir)?;
    let db = db_dir.join("state.db");
    let store = match cfg.store_history {
        Some(h) => SqliteStore::open_with_history(&db, h),
        None => SqliteStore::open(&db),
    }
    .context("open store")?;
    let pki = pki::Pki::load_or_create(&cfg.data_dir.join("tls"))?;

    let listener = tokio::net::TcpListener::bind((cfg.bind_address, cfg.port))
        .await
        .with_context(|| format!("bind {}:{}", cfg.bind_address, cfg.port))?;
    let addr = listener.local_addr()?;
    let client_host = if cfg.bind_address.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        cfg.bind_address
    };
    let mut ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST), client_host];
    if cfg.bind_address.is_unspecified() {
        ips.extend(host_addresses());
    }
    let hostname = nix_hostname();
    let serving = pki.issue_server(
        &[
            "localhost".into(),
            "kubernetes".into(),
            "kubernetes.default".into(),
            "kubernetes.default.svc".into(),
            hostname,
        ],
        &ips,
    )?;
    let tls = listener::tls_config(pki.ca_cert_pem(), &serving)?;

    let server_url = format!("https://{}", SocketAddr::new(client_host, addr.port()));
    let admin = pki.admin()?;
    let kubeconfig = cfg.data_dir.join("admin.kubeconfig");
    pki::write_private(
        &kubeconfig,
        &pki::kubeconfig(&server_url, pki.ca_cert_pem(), "admin", &admin),
    )?;

    let state: SharedState = Arc::new(AppState {
        objects: object_store::Objects {
            store: Arc::new(store),
        },
        metrics: metrics::Metrics::default(),
        server_address: SocketAddr::new(client_host, addr.port()).to_string(),
        data_dir: cfg.data_dir.clone(),
        signer: peapod_admission::TokenSigner::load_or_create(&cfg.data_dir.join("tls"))?,
        ca_pem: pki.ca_cert_pem().to_string(),
        kubelet_client: Some(proxy::client_config(
            pki.ca_cert_pem(),
            &pki.issue_client("kube-apiserver-kubelet-client", &["system:masters"])?,
        )?),
        node_token: join::load_or_create_token(&cfg.data_dir, pki.ca_cert_pem())?,
        pki: Arc::new(pki),
    });
    bootstrap::ensure_system_namespaces(&state).await?;
    bootstrap::ensure_kubernetes_service(
        &state,
        cfg.kubernetes_service_ip,
        cfg.advertise_address,
        addr.port(),
    )
    .await;
    bootstrap::spawn_namespace_lifecycle(state.clone());

    let app = Router::new()
        .fallback(handlers::dispatch)
        .with_state(state.clone());
    let tokens = Arc::new(auth::Tokens::default());
    tokio::spawn(listener::serve(listener, tls, app, tokens));
    tracing::info!(%server_url, kubeconfig = %kubeconfig.display(), "API server listening");
    Ok(Server {
        state,
        addr,
        kubeconfig,
    })
}

fn nix_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The host's IPv4 addresses (for the serving certificate when bound to all interfaces).
fn host_addresses() -> Vec<IpAddr> {
    let Ok(out) = std::fs::read_to_string("/proc/net/fib_trie") else {
        return vec![];
    };
    let mut ips = Vec::new();
    let mut last: Option<IpAddr> = None;
    for line in out.lines() {
        let t = line.trim();
        if let Some(ip) = t.strip_prefix("|-- ").and_then(|s| s.parse().ok()) {
            last = Some(ip);
        } else if t.contains("/32 host LOCAL") {
            if let Some(ip) = last.take() {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
        }
    }
    ips
}
