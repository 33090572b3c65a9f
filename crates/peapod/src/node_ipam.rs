//! Node IPAM: gives every Node without one a `spec.podCIDR` carved from the cluster CIDR
//! (Kubernetes' node-ipam controller). The node agent builds its pod bridge on it.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::{watcher, WatchStreamExt};
use peapod_network::Ipv4Cidr;

pub async fn run(client: kube::Client, cluster: Ipv4Cidr, node_mask: u8) {
    loop {
        if let Err(e) = watch(&client, cluster, node_mask).await {
            tracing::warn!(error = %e, "node ipam restarting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn watch(client: &kube::Client, cluster: Ipv4Cidr, node_mask: u8) -> anyhow::Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut stream = watcher(nodes.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    while let Some(node) = stream.try_next().await? {
        let has = node
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.as_ref())
            .is_some_and(|c| !c.is_empty());
        if has {
            continue;
        }
        let assigned: Vec<Ipv4Cidr> = nodes
            .list(&Default::default())
            .await?
            .items
            .iter()
            .filter_map(|n| n.spec.as_ref()?.pod_cidr.as_ref()?.parse().ok())
            .collect();
        let cidr = peapod_network::allocate_node_cidr(cluster, node_mask, &assigned)?;
        let name = node.metadata.name.clone().unwrap_or_default();
        let patch = serde_json::json!({"spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]}});
        nodes
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        tracing::info!(node = %name, %cidr, "assigned pod CIDR");
    }
    Ok(())
}
