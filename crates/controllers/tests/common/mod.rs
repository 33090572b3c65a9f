//! A real API server in-process, the controllers running against it, and helpers that play
//! the node agent (pod status through `pods/status`).
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Client;
use peapod_controllers::{Clock, ControllerConfig, LeaderConfig, NodeLifecycleConfig};
use serde_json::json;

pub struct Env {
    pub client: Client,
    pub clock: Clock,
    _server: peapod_apiserver::Server,
    _dir: tempfile::TempDir,
    controllers: tokio::task::JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.controllers.abort();
    }
}

pub async fn server() -> anyhow::Result<(peapod_apiserver::Server, tempfile::TempDir, Client)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let server = peapod_apiserver::start(peapod_apiserver::ServerConfig::local(
        dir.path().to_path_buf(),
    ))
    .await?;
    let kc = kube::config::Kubeconfig::read_from(&server.kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let client = Client::try_from(cfg)?;
    Ok((server, dir, client))
}

pub async fn start() -> anyhow::Result<Env> {
    start_with(NodeLifecycleConfig::default()).await
}

/// Like `start`, with the node lifecycle controller's timings chosen by the test.
pub async fn start_with(node_lifecycle: NodeLifecycleConfig) -> anyhow::Result<Env> {
    let (server, dir, client) = server().await?;
    let clock = Clock::system();
    let cfg = ControllerConfig {
        workers: 4,
        clock: clock.clone(),
        leader: LeaderConfig {
            retry_period: Duration::from_millis(200),
            ..Default::default()
        },
        node_lifecycle,
    };
    let c = client.clone();
    let controllers = tokio::spawn(async move {
        if let Err(e) = peapod_controllers::run(c, cfg).await {
            panic!("controllers stopped: {e:#}");
        }
    });
    Ok(Env {
        client,
        clock,
        _server: server,
        _dir: dir,
        controllers,
    })
}

/// Polls `check` until it returns Some, or fails after `secs`.
pub async fn wait_for<T, F, Fut>(what: &str, secs: u64, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut last_err = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("timed out waiting for {what} (last error: {last_err:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn template(app: &str, image: &str) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(&[("app", app)])),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: Some(image.into()),
                ..Default::default()
            }],
            restart_policy: Some("Always".into()),
            termination_grace_period_seconds: Some(0),
            ..Default::default()
        }),
    }
}

/// Pods in `ns` matching `selector` that are not being deleted, sorted by name.
pub async fn live_pods(client: &Client, ns: &str, selector: &str) -> anyhow::Result<Vec<Pod>> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut pods: Vec<Pod> = api
        .list(&ListParams::default().labels(selector))
        .await?
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    pods.sort_by_key(|p| p.metadata.name.clone());
    Ok(pods)
}

/// What the node agent would report for a running, ready pod.
pub async fn mark_ready(client: &Client, ns: &str, name: &str) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({"status": {
        "phase": "Running",
        "startTime": now,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": [{"name": "c", "image": "img", "imageID": "", "ready": true, "restartCount": 0,
            "started": true, "state": {"running": {"startedAt": now}}}],
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await?;
    Ok(())
}

/// What the node agent would report for a pod whose containers exited.
pub async fn mark_finished(
    client: &Client,
    ns: &str,
    name: &str,
    exit_code: i32,
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let phase = if exit_code == 0 {
        "Succeeded"
    } else {
        "Failed"
    };
    let reason = if exit_code == 0 { "Completed" } else { "Error" };
    let body = json!({"status": {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now, "reason": "PodCompleted"}],
        "containerStatuses": [{"name": "c", "image": "img", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": now, "finishedAt": now}}}],
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await?;
    Ok(())
}

pub fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// Marks every live, not yet ready pod matching `selector` ready; returns how many.
pub async fn ready_all(client: &Client, ns: &str, selector: &str) -> anyhow::Result<usize> {
    let mut n = 0;
    for p in live_pods(client, ns, selector).await? {
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready {
            mark_ready(client, ns, &name(&p)).await?;
            n += 1;
        }
    }
    Ok(n)
}

pub fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// A node object as the agent registers it: labels and taints in spec, Ready=True status
/// (through `nodes/status`) and a fresh Lease.
pub async fn create_node(
    client: &Client,
    name: &str,
    node_labels: &[(&str, &str)],
    taints: serde_json::Value,
) -> anyhow::Result<()> {
    let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let mut all = labels(node_labels);
    all.insert("kubernetes.io/hostname".into(), name.into());
    let node = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": all},
        "spec": {"taints": taints},
    }))?;
    api.create(&kube::api::PostParams::default(), &node).await?;
    post_node_ready(client, name, "True").await?;
    renew_node_lease(client, name).await
}

/// The agent's status heartbeat: the Ready condition with a fresh lastHeartbeatTime.
pub async fn post_node_ready(client: &Client, name: &str, status: &str) -> anyhow::Result<()> {
    let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let reason = if status == "True" {
        "KubeletReady"
    } else {
        "KubeletNotReady"
    };
    let body = json!({"status": {"conditions": [
        {"type": "Ready", "status": status, "reason": reason, "message": "test agent",
         "lastHeartbeatTime": now, "lastTransitionTime": now},
    ]}});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await?;
    Ok(())
}

/// The agent's lease heartbeat in `kube-node-lease`.
pub async fn renew_node_lease(client: &Client, name: &str) -> anyhow::Result<()> {
    use k8s_openapi::api::coordination::v1::Lease;
    let api: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let lease: Lease = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now},
    }))?;
    match api.create(&kube::api::PostParams::default(), &lease).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let body = json!({"spec": {"renewTime": now}});
            api.patch(name, &PatchParams::default(), &Patch::Merge(&body))
                .await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
