//! One task per pod: drives the pod toward its spec (kubelet's pod worker + syncPod) and
//! publishes its status.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};
use tokio::sync::{watch, Notify};

mod adopt;
mod execute;
mod plan;
mod restarts;
mod role;
mod sandbox;
mod start;
mod state;
mod status;
mod stop;

use restarts::FailedRun;
use role::Role;
use state::Lifecycle;

use crate::admission;
use crate::backoff::Backoff;
use crate::ctx::{Ctx, PodRuntimeInfo};
use crate::events::EventType;
use crate::images::Puller;
use crate::lifecycle::pod_full_name;
use crate::prober::{self, ProbeTarget, Probes};
use crate::status::{Terminal, Waiting};

/// How long a pod that vanished from the API gets to stop.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
struct SandboxRef {
    id: String,
    netns: Option<PathBuf>,
    ips: Vec<String>,
    /// Pause and network are gone (the pod finished); containers and logs are kept until the
    /// pod is deleted.
    stopped: bool,
}

pub struct PodWorker {
    ctx: Arc<Ctx>,
    uid: String,
    pod: Pod,
    sandbox: Option<SandboxRef>,
    lifecycle: Lifecycle,
    start_time: Option<DateTime<Utc>>,
    puller: Puller,
    backoff: Backoff,
    waiting: HashMap<String, Waiting>,
    /// container name → (status image, image id)
    images: HashMap<String, (String, String)>,
    /// container id → probes of that instance
    probes: HashMap<String, Probes>,
    /// container name → its last attempt, which failed to run (RunContainerError): the
    /// retry waits for the restart back-off
    start_failed: HashMap<String, FailedRun>,
    /// container name → when creating it last failed (CreateContainerError)
    create_failed: HashMap<String, DateTime<Utc>>,
    notify: Arc<Notify>,
    last_status: Option<PodStatus>,
    /// The last status write failed: a finished pod retries it.
    status_unsent: bool,
    /// The new sandbox's network, being set up while its first containers are created.
    pending_network: Option<sandbox::PendingNetwork>,
    /// Setting up this pod's volumes failed once: later sandboxes wait for them.
    volumes_failed: bool,
}

/// (current, previous) instance per container name.
type Instances = HashMap<String, (Option<RtStatus>, Option<RtStatus>)>;

impl PodWorker {
    pub fn new(ctx: Arc<Ctx>, pod: Pod) -> Self {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        PodWorker {
            ctx,
            uid,
            pod,
            sandbox: None,
            lifecycle: Lifecycle::Pending,
            start_time: None,
            puller: Puller::default(),
            backoff: Backoff::default(),
            waiting: HashMap::new(),
            images: HashMap::new(),
            probes: HashMap::new(),
            start_failed: HashMap::new(),
            create_failed: HashMap::new(),
            notify: Arc::new(Notify::new()),
            last_status: None,
            status_unsent: false,
            pending_network: None,
            volumes_failed: false,
        }
    }

    /// The worker loop; returns when the pod is gone and cleaned up.
    pub async fn run(mut self, mut rx: watch::Receiver<Option<Pod>>) {
        tracing::debug!(pod = %self.uid, "worker started");
        self.adopt().await;
        loop {
            let latest = rx.borrow_and_update().clone();
            let Some(pod) = latest else {
                // Gone from the API: like the kubelet's pod manager, admission stops counting it
                // at once, while its containers are still being stopped.
                self.release_admission();
                self.teardown(ORPHAN_GRACE).await;
                return;
            };
            self.pod = pod;
            if self.pod.metadata.deletion_timestamp.is_some() {
                self.terminate_and_delete().await;
                return;
            }
            if !self.lifecycle.finished() {
                if let Err(e) = self.sync().await {
                    tracing::warn!("syncing pod {}: {e:#}", pod_full_name(&self.pod));
                }
                self.publish_status().await;
            } else if self.status_unsent {
                self.write_status().await;
            }
            let resync = self.ctx.cfg.resync_interval;
            tokio::select! {
                changed = rx.changed() => {
                    // The manager is gone (agent shutting down): leave containers running.
                    if changed.is_err() { return; }
                }
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(resync) => {}
            }
        }
    }

    fn spec_grace(&self) -> Duration {
        let secs = self
            .pod
            .metadata
            .deletion_grace_period_seconds
            .or(self
                .pod
                .spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds))
            .unwrap_or(30);
        Duration::from_secs(secs.max(0) as u64)
    }

    fn pod_ip(&self) -> String {
        if self.host_network() {
            return self.ctx.host_ip();
        }
        self.sandbox
            .as_ref()
            .and_then(|s| s.ips.first().cloned())
            .unwrap_or_default()
    }

    fn live_sandbox(&self) -> Option<&SandboxRef> {
        self.sandbox.as_ref().filter(|s| !s.stopped)
    }

    fn host_network(&self) -> bool {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.host_network)
            .unwrap_or(false)
    }

    fn pod_ips(&self) -> Vec<String> {
        if self.host_network() {
            return vec![self.ctx.host_ip()];
        }
        self.sandbox
            .as_ref()
            .map(|s| s.ips.clone())
            .unwrap_or_default()
    }

    /// The runtime's sandboxes of this pod.
    async fn pod_sandboxes(&self) -> Vec<peapod_runtime::SandboxStatus> {
        let uid = self.uid.clone();
        self.ctx
            .rt(move |rt| Ok(rt.pod_sandboxes(&uid)))
            .await
            .unwrap_or_default()
    }

    fn start_probes(&mut self, c: &Container, role: Role, id: &str, was_ready: bool) {
        let probes = prober::start(
            ProbeTarget {
                ctx: self.ctx.clone(),
                pod: self.pod.clone(),
                container: c.clone(),
                init: role.listed_as_init(),
                container_id: id.to_string(),
                pod_ip: self.pod_ip(),
                notify: self.notify.clone(),
            },
            was_ready,
        );
        self.probes.insert(id.to_string(), probes);
    }

    /// The runtime's containers of this pod, newest instance and the one before, per name;
    /// older instances are removed (kubelet keeps one dead instance for `--previous`).
    async fn instances(&self) -> Instances {
        let Some(sb) = &self.sandbox else {
            return Instances::new();
        };
        let sid = sb.id.clone();
        let list = self
            .ctx
            .rt(move |rt| {
                let mut list = rt.list_containers(Some(&sid));
                // A process that just exited reads as Unknown until the supervisor has
                // recorded its exit: give it a moment rather than misjudge the container.
                for c in list.iter_mut().filter(|c| c.state == RtState::Unknown) {
                    for _ in 0..20 {
                        std::thread::sleep(Duration::from_millis(10));
                        match rt.container_status(&c.id) {
                            Ok(st) if st.state != RtState::Unknown => {
                                *c = st;
                                break;
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                }
                Ok(list)
            })
            .await
            .unwrap_or_default();
        let mut by_name: HashMap<String, Vec<RtStatus>> = HashMap::new();
        for c in list {
            by_name.entry(c.name.clone()).or_default().push(c);
        }
        let mut out = Instances::new();
        for (name, mut v) in by_name {
            v.sort_by(|a, b| {
                b.restart_count
                    .cmp(&a.restart_count)
                    .then(b.created_at.cmp(&a.created_at))
            });
            let stale: Vec<String> = v.iter().skip(2).map(|c| c.id.clone()).collect();
            if !stale.is_empty() {
                let _ = self
                    .ctx
                    .rt(move |rt| {
                        for id in stale {
                            rt.remove_container(&id)?;
                        }
                        Ok(())
                    })
                    .await;
            }
            let mut it = v.into_iter();
            out.insert(name, (it.next(), it.next()));
        }
        out
    }

    fn publish_info(&self, instances: &Instances) {
        let containers = instances
            .iter()
            .filter_map(|(name, (cur, prev))| {
                cur.as_ref().map(|c| {
                    (
                        name.clone(),
                        (c.id.clone(), prev.as_ref().map(|p| p.id.clone())),
                    )
                })
            })
            .collect();
        self.ctx.set_pod_info(PodRuntimeInfo {
            namespace: self.pod.metadata.namespace.clone().unwrap_or_default(),
            name: self.pod.metadata.name.clone().unwrap_or_default(),
            uid: self.uid.clone(),
            // A stopped sandbox has no namespaces left to exec or forward into; its
            // containers' logs are still found through `containers`.
            sandbox_id: self.live_sandbox().map(|s| s.id.clone()),
            netns: self.live_sandbox().and_then(|s| s.netns.clone()),
            containers,
        });
    }

    /// One pass of syncPod: admission, deadline, sandbox, then the planned container actions.
    async fn sync(&mut self) -> anyhow::Result<()> {
        if self.lifecycle.terminal().is_some() {
            return Ok(());
        }
        let spec = self.pod.spec.clone().unwrap_or_default();
        if !self.lifecycle.admitted() {
            if let Err(r) = admission::admit(&self.ctx, &self.uid, &spec) {
                self.ctx
                    .events
                    .pod(&self.pod, EventType::Warning, &r.reason, &r.message);
                self.lifecycle.end(r.terminal());
                return Ok(());
            }
            self.lifecycle = Lifecycle::Running;
            self.start_time.get_or_insert_with(Utc::now);
        }
        if plan::deadline_exceeded(&spec, self.start_time, Utc::now()) {
            let msg = "Pod was active on the node longer than the specified deadline";
            self.ctx
                .events
                .pod(&self.pod, EventType::Normal, "DeadlineExceeded", msg);
            self.kill_all(self.spec_grace(), Some("Stopping container"))
                .await;
            self.lifecycle.end(Terminal {
                phase: "Failed",
                reason: "DeadlineExceeded".into(),
                message: msg.into(),
            });
            return Ok(());
        }
        let t = std::time::Instant::now();
        let had_sandbox = self.sandbox.is_some();
        if !self.ensure_sandbox().await {
            return Ok(());
        }
        if !had_sandbox {
            tracing::debug!(pod = %self.uid, "sandbox made in {:?}", t.elapsed());
        }
        let instances = self.instances().await;
        let actions = plan::plan(&spec, &self.observe(&instances), Utc::now());
        self.execute(actions).await;
        // Normally awaited by the first container start; not if none could be started.
        self.network_ready().await;
        let instances = self.instances().await;
        self.publish_info(&instances);
        Ok(())
    }
}
