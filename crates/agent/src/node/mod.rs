//! The Node object: registration, status heartbeat and Lease.

pub mod lease;
pub mod machine;
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

/// Publishes the node status once (conditions keep their transition times).
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
    let status = node_status(&NodeStatusInput {
        machine,
        previous: &previous,
        now: Utc::now(),
        streaming_port: cfg.streaming_port,
        images: image_list(images),
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

/// Every `heartbeat_interval`: node status and Lease. Never returns.
pub async fn heartbeat_loop(
    client: Client,
    cfg: Arc<AgentConfig>,
    machine: Machine,
    images: ImageStore,
    node_uid: Option<String>,
) {
    let mut tick = tokio::time::interval(cfg.heartbeat_interval);
    loop {
        tick.tick().await;
        if let Err(e) = lease::renew(&client, &cfg.node_name, node_uid.as_deref()).await {
            tracing::warn!("node lease: {e:#}");
        }
        if let Err(e) = update_status(&client, &cfg, &machine, &images).await {
            tracing::warn!("node status: {e:#}");
        }
    }
}
