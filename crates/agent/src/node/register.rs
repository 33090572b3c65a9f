//! Creating/updating the Node object and settling its pod CIDR.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::{Node, NodeSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use peapod_network::{allocate_node_cidr, Ipv4Cidr, DEFAULT_NODE_MASK};
use serde_json::json;

use crate::config::AgentConfig;

/// How long to wait for the server's node-CIDR allocator before picking one ourselves.
const SERVER_CIDR_WAIT: Duration = Duration::from_secs(2);

pub fn node_labels(cfg: &AgentConfig) -> std::collections::BTreeMap<String, String> {
    let mut labels = cfg.node_labels.clone();
    labels.insert("kubernetes.io/hostname".into(), cfg.node_name.clone());
    labels.insert("kubernetes.io/os".into(), "linux".into());
    let arch = super::machine::go_arch();
    labels.insert("kubernetes.io/arch".into(), arch.into());
    labels.insert("beta.kubernetes.io/os".into(), "linux".into());
    labels.insert("beta.kubernetes.io/arch".into(), arch.into());
    labels
}

/// Creates the Node if missing, else merges our labels into it. Returns the current object.
pub async fn register(client: &Client, cfg: &AgentConfig) -> anyhow::Result<Node> {
    let api: Api<Node> = Api::all(client.clone());
    let labels = node_labels(cfg);
    if api.get_opt(&cfg.node_name).await?.is_some() {
        let patch = json!({"metadata": {"labels": labels}});
        return api
            .patch(
                &cfg.node_name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .context("updating the Node labels");
    }
    let node = Node {
        metadata: ObjectMeta {
            name: Some(cfg.node_name.clone()),
            labels: Some(labels),
            annotations: Some(
                [("node.alpha.kubernetes.io/ttl".to_string(), "0".to_string())].into(),
            ),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: cfg.pod_cidr.map(|c| c.to_string()),
            pod_cidrs: cfg.pod_cidr.map(|c| vec![c.to_string()]),
            ..Default::default()
        }),
        status: None,
    };
    match api.create(&PostParams::default(), &node).await {
        Ok(n) => Ok(n),
        // Lost a race with another registration of the same name: use what is there.
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(api.get(&cfg.node_name).await?),
        Err(e) => Err(e).context("creating the Node"),
    }
}

fn spec_cidr(node: &Node) -> Option<Ipv4Cidr> {
    node.spec
        .as_ref()
        .and_then(|s| s.pod_cidr.as_deref())
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

/// The node's pod CIDR: configured, else `spec.podCIDR` (waiting briefly for the server's
/// allocator), else allocated here from the cluster CIDR and written to the Node once.
pub async fn settle_pod_cidr(client: &Client, cfg: &AgentConfig) -> anyhow::Result<Ipv4Cidr> {
    let api: Api<Node> = Api::all(client.clone());
    let deadline = tokio::time::Instant::now() + SERVER_CIDR_WAIT;
    loop {
        let node = api.get(&cfg.node_name).await?;
        if let Some(c) = spec_cidr(&node) {
            if let Some(want) = cfg.pod_cidr.filter(|w| *w != c) {
                tracing::warn!(
                    "Node {} has podCIDR {c}, configured {want}: using {want}",
                    cfg.node_name
                );
                return Ok(want);
            }
            return Ok(c);
        }
        if let Some(want) = cfg.pod_cidr {
            set_pod_cidr(&api, &cfg.node_name, want).await?;
            return Ok(want);
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let taken: Vec<Ipv4Cidr> = api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter_map(spec_cidr)
        .collect();
    let cidr = allocate_node_cidr(cfg.cluster_cidr, DEFAULT_NODE_MASK, &taken)
        .context("allocating a pod CIDR for the node")?;
    set_pod_cidr(&api, &cfg.node_name, cidr).await?;
    Ok(cidr)
}

async fn set_pod_cidr(api: &Api<Node>, name: &str, cidr: Ipv4Cidr) -> anyhow::Result<()> {
    let patch = json!({"spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .context("setting the Node's podCIDR")?;
    Ok(())
}
