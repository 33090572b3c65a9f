//! A real peapod API server in-process, a kube client for it, and the scheduler running against it.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};

pub struct Cluster {
    pub client: Client,
    scheduler: tokio::task::JoinHandle<anyhow::Result<()>>,
    _server: peapod_apiserver::Server,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.scheduler.abort();
    }
}

impl Cluster {
    /// API server + scheduler with default settings.
    pub async fn start() -> Cluster {
        Self::start_with(peapod_scheduler::SchedulerConfig::default()).await
    }

    pub async fn start_with(cfg: peapod_scheduler::SchedulerConfig) -> Cluster {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        let server = peapod_apiserver::start(peapod_apiserver::ServerConfig::local(
            dir.path().to_path_buf(),
        ))
        .await
        .expect("start API server");
        let kubeconfig =
            kube::config::Kubeconfig::read_from(&server.kubeconfig).expect("read kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("kube config");
        let client = Client::try_from(config).expect("client");
        let scheduler = tokio::spawn(peapod_scheduler::run(client.clone(), cfg));
        Cluster {
            client,
            scheduler,
            _server: server,
            _dir: dir,
        }
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    pub fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }

    /// A Ready node with the given allocatable resources (status written through `nodes/status`).
    pub async fn add_node(&self, name: &str, cpu: &str, memory: &str, pods: &str) {
        self.add_node_with(name, cpu, memory, pods, json!({}), "True")
            .await;
    }

    pub async fn add_node_with(
        &self,
        name: &str,
        cpu: &str,
        memory: &str,
        pods: &str,
        spec: Value,
        ready: &str,
    ) {
        let node: Node = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": spec,
        }))
        .expect("node json");
        self.nodes()
            .create(&PostParams::default(), &node)
            .await
            .expect("create node");
        let resources =
            json!({"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "20Gi"});
        let status = json!({"status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady", "message": "ready",
                            "lastHeartbeatTime": "2025-01-01T00:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"}],
        }});
        self.nodes()
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .expect("patch node status");
    }

    pub async fn label_node(&self, name: &str, key: &str, value: &str) {
        let patch = json!({"metadata": {"labels": {key: value}}});
        self.nodes()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("label node");
    }

    /// Creates a pod from a JSON spec (fields the test needs are set explicitly, no server defaults).
    pub async fn create_pod(&self, name: &str, spec: Value) -> Pod {
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": spec,
        }))
        .expect("pod json");
        self.pods()
            .create(&PostParams::default(), &pod)
            .await
            .expect("create pod")
    }

    pub async fn node_of(&self, pod: &str) -> Option<String> {
        let p = self.pods().get(pod).await.expect("get pod");
        p.spec.and_then(|s| s.node_name).filter(|n| !n.is_empty())
    }

    pub async fn wait_bound(&self, pod: &str) -> String {
        wait_for(&format!("pod {pod} bound"), || async {
            self.node_of(pod).await
        })
        .await
    }

    /// Events about a pod, oldest first.
    pub async fn events_for(&self, pod: &str) -> Vec<Event> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), "default");
        let mut events: Vec<Event> = api
            .list(&ListParams::default())
            .await
            .expect("list events")
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(pod))
            .collect();
        events.sort_by(|a, b| a.first_timestamp.cmp(&b.first_timestamp));
        events
    }

    pub async fn wait_event(&self, pod: &str, reason: &str) -> Event {
        wait_for(&format!("{reason} event for {pod}"), || async {
            self.events_for(pod)
                .await
                .into_iter()
                .find(|e| e.reason.as_deref() == Some(reason))
        })
        .await
    }

    /// Waits for `PodScheduled=False` and returns (reason, message).
    pub async fn wait_unschedulable(&self, pod: &str) -> (String, String) {
        wait_for(&format!("pod {pod} unschedulable"), || async {
            let p = self.pods().get(pod).await.ok()?;
            let c = p
                .status?
                .conditions?
                .into_iter()
                .find(|c| c.type_ == "PodScheduled")?;
            (c.status == "False")
                .then(|| (c.reason.unwrap_or_default(), c.message.unwrap_or_default()))
        })
        .await
    }
}

pub async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A busybox container spec with memory/cpu requests.
pub fn container(name: &str, cpu: &str, memory: &str) -> Value {
    json!({"name": name, "image": "busybox", "imagePullPolicy": "IfNotPresent",
           "resources": {"requests": {"cpu": cpu, "memory": memory}}})
}

pub fn pod_spec(containers: Vec<Value>) -> Value {
    json!({"containers": containers, "schedulerName": "default-scheduler", "restartPolicy": "Always"})
}
