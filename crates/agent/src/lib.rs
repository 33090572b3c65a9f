//! peapod's node agent, with kubelet semantics. It talks to the API server only through
//! kube-rs and drives the container runtime and pod network of this machine:
//!
//! * [`node`]: registers the Node (capacity, addresses, nodeInfo, conditions), renews its
//!   Lease, settles its pod CIDR;
//! * [`manager`] + [`worker`]: one worker per pod bound to this node — admission, image
//!   pulls, sandbox and network, init containers, app containers, hooks, probes, restarts
//!   with back-off, graceful deletion, status and events;
//! * [`streaming_backend`]: logs/exec/port-forward for the kubelet-style streaming server.
//!
//! ```no_run
//! # async fn demo(client: kube::Client) -> anyhow::Result<()> {
//! let cfg = peapod_agent::AgentConfig::new("node1", "/var/lib/peapod", std::env::current_exe()?);
//! peapod_agent::run(client, cfg).await
//! # }
//! ```

pub mod admission;
pub mod backoff;
mod cleanup;
pub mod config;
mod container_config;
mod ctx;
pub mod env;
pub mod events;
mod grpc_health;
mod handlers;
mod http_probe;
pub mod images;
mod lifecycle;
mod manager;
pub mod node;
mod non_root;
mod prober;
pub mod sandbox_config;
/// The old name of [`sandbox_config`], still used by the pod worker (`crate::sandbox::...`).
pub use sandbox_config as sandbox;
pub mod status;
mod streaming_backend;
/// Kept at its old path for the pod worker (`crate::timeconv::from_time`).
pub use peapod_apimachinery::timeconv;
pub mod unverified_tls;
mod volume_plugins;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use kube::Client;
use peapod_network::{BuiltinConfig, BuiltinNetwork, CniConfig, CniNetwork, Ipv4Cidr, PodNetwork};
use peapod_runtime::image::ImageStore;
use peapod_runtime::{Runtime, RuntimeConfig};
use tokio::task::JoinSet;

pub use config::AgentConfig;
pub use node::eviction::EvictionThresholds;

/// Aborts a background task when the agent future is dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn builtin_config(cfg: &AgentConfig, pod_cidr: Ipv4Cidr) -> BuiltinConfig {
    let mut b = BuiltinConfig::new(pod_cidr, cfg.data_dir.clone());
    b.bridge = cfg.bridge_name.clone();
    b.nft_table = cfg.nft_table.clone();
    b.cluster_cidr = cfg.cluster_cidr;
    b
}

/// Runs the agent until an unrecoverable error. Dropping the future stops the agent but
/// leaves running pods alone: a new agent adopts them.
pub async fn run(client: Client, cfg: AgentConfig) -> anyhow::Result<()> {
    let cfg = Arc::new(cfg);
    let mut rcfg = RuntimeConfig::new(cfg.data_dir.clone(), cfg.helper_exe.clone());
    rcfg.cgroup_parent = cfg.cgroup_parent.clone();
    let runtime = Arc::new(Runtime::new(rcfg).context("starting the container runtime")?);
    let images = ImageStore::open(&cfg.data_dir).context("opening the image store")?;
    // k3s convention: image archives dropped into DATA/images are imported at start.
    let drop_dir = cfg.data_dir.join("images");
    let importer = images.clone();
    match tokio::task::spawn_blocking(move || importer.import_dir(&drop_dir)).await? {
        Ok(r) => {
            for (path, e) in &r.failed {
                tracing::warn!("image archive {}: {e}", path.display());
            }
            tracing::info!(
                "image archives: {} imported, {} unchanged, {} failed",
                r.imported.len(),
                r.skipped.len(),
                r.failed.len()
            );
        }
        Err(e) => tracing::warn!("importing image archives: {e}"),
    }
    let rt = runtime.clone();
    let report = tokio::task::spawn_blocking(move || rt.recover()).await?;
    tracing::info!(
        "runtime recovery: {} sandboxes adopted, {} stopped kept, {} cleaned",
        report.adopted.len(),
        report.stopped.len(),
        report.cleaned.len()
    );

    let node = node::register::register(&client, &cfg).await?;
    let machine = node::machine::Machine::measure(&cfg.data_dir);
    let pod_cidr = node::register::settle_pod_cidr(&client, &cfg).await?;
    let network: Arc<dyn PodNetwork> = match &cfg.cni {
        Some((conf, bin)) => Arc::new(
            CniNetwork::new(CniConfig::new(conf, bin, cfg.data_dir.clone()))
                .context("CNI network")?,
        ),
        None => Arc::new(
            BuiltinNetwork::new(builtin_config(&cfg, pod_cidr))
                .await
                .context("pod network")?,
        ),
    };
    network
        .reconcile(&report.adopted)
        .await
        .context("reconciling the pod network")?;
    let node = node::update_status(&client, &cfg, &machine, &images)
        .await
        .map(Some)
        .unwrap_or_else(|e| {
            tracing::warn!("first node status: {e:#}");
            Some(node)
        });
    let allocatable = node
        .as_ref()
        .and_then(|n| n.status.as_ref())
        .and_then(|s| s.allocatable.as_ref())
        .map(|a| serde_json::to_value(a).unwrap_or_default())
        .unwrap_or_default();
    let node_uid = node.and_then(|n| n.metadata.uid);

    let volumes = Arc::new(peapod_volumes::VolumeManager::new(
        client.clone(),
        cfg.data_dir.clone(),
        cfg.node_name.clone(),
    ));
    let _refresher = AbortOnDrop(volumes.clone().spawn_refresher().abort_handle());
    let ctx = Arc::new(ctx::Ctx {
        client: client.clone(),
        cfg: cfg.clone(),
        runtime,
        images: images.clone(),
        network,
        events: events::EventRecorder::start(client.clone(), cfg.node_name.clone()),
        machine: machine.clone(),
        allocatable,
        volumes,
        pods: Mutex::new(HashMap::new()),
        admitted: Mutex::new(HashMap::new()),
    });

    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    tasks.spawn(async move {
        node::heartbeat_loop(client, cfg.clone(), machine, images, node_uid).await;
        Ok(())
    });
    if let Some(tls) = ctx.cfg.streaming_tls.clone() {
        let addr = std::net::SocketAddr::new(ctx.cfg.streaming_bind, ctx.cfg.streaming_port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the streaming server on {addr}"))?;
        let backend = Arc::new(streaming_backend::AgentStreaming { ctx: ctx.clone() });
        tasks.spawn(async move {
            peapod_streaming::serve(listener, tls, backend)
                .await
                .context("streaming server")
        });
    }
    tasks.spawn(manager::run(ctx));
    match tasks.join_next().await {
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(anyhow::anyhow!("agent task failed: {e}")),
        None => Ok(()),
    }
}

/// Removes the node's built-in network (bridge, nftables table, state): node decommission
/// and tests. Pods must be gone first.
pub async fn destroy_network(cfg: &AgentConfig, pod_cidr: Ipv4Cidr) -> anyhow::Result<()> {
    let net = BuiltinNetwork::new(builtin_config(cfg, pod_cidr)).await?;
    net.destroy().await?;
    Ok(())
}
