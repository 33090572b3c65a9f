//! The Node object: registration, status heartbeat and Lease.

pub mod eviction;
pub mod lease;
pub mod machine;
pub mod pressure;
pub mod register;
pub mod status;

use std::sync::Arc;

use chrono::Utc;
use k8s_openapi::api::core::v1::{ContainerImage, Node};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use peapod_runtime::image::ImageStore;
use serde_json::json;

use crate::config::AgentConfig;
use machine::Machine;
use status::{node_status, NodeStatusInput};

/// Publishes the node status once, with pressure read from the machine now (conditions keep
/// their transition times while their status holds).
pub async fn update_status(
    client: &Client,
    cfg: &AgentConfig,
    machine: &Machine,
    images: &ImageStore,
) -> anyhow::Result<Node> {
    let api: Api<Node> = Api::all(client.clone());
    let current = api.get(&cfg.node_name).await?;
    let previous = current
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let data_dir = cfg.data_dir.clone();
    let readings =
        tokio::task::spawn_blocking(move || pressure::Readings::measure(&data_dir)).await?;
    let status = node_status(&NodeStatusInput {
        machine,
        previous: &previous,
        now: Utc::now(),
        streaming_port: cfg.streaming_port,
        images: image_list(images),
        pressure: readings.pressure(&cfg.eviction_hard),
        eviction: &cfg.eviction_hard,
    });
    let patch = json!({ "status": status });
    Ok(api
        .patch_status(
            &cfg.node_name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?)
}

fn image_list(images: &ImageStore) -> Vec<ContainerImage> {
    images
        .list()
        .unwrap_or_default()
        .into_iter()
        .map(|r| ContainerImage {
            names: Some(r.names().cloned().collect()),
            size_bytes: i64::try_from(r.size).ok(),
        })
        .collect()
}

/// Every `heartbeat_interval`: node status and Lease. Never returns. `machine` is the start-up
/// measurement; each tick measures again (disks grow, memory is hot-plugged).
pub async fn heartbeat_loop(
    client: Client,
    cfg: Arc<AgentConfig>,
    mut machine: Machine,
    images: ImageStore,
    node_uid: Option<String>,
) {
    let mut tick = tokio::time::interval(cfg.heartbeat_interval);
    let mut first = true;
    loop {
        tick.tick().await;
        if !std::mem::take(&mut first) {
            let dir = cfg.data_dir.clone();
            if let Ok(m) = tokio::task::spawn_blocking(move || Machine::measure(&dir)).await {
                machine = m;
            }
        }
        if let Err(e) = lease::renew(&client, &cfg.node_name, node_uid.as_deref()).await {
            tracing::warn!("node lease: {e:#}");
        }
        if let Err(e) = update_status(&client, &cfg, &machine, &images).await {
            tracing::warn!("node status: {e:#}");
        }
    }
}
