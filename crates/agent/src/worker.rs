//! One task per pod: drives the pod toward its spec (kubelet's pod worker + syncPod) and
//! publishes its status.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::Api;
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};
use serde_json::json;
use tokio::sync::{watch, Notify};

mod adopt;
mod restarts;
mod sandbox;
mod start;

use restarts::FailedRun;

use crate::admission;
use crate::backoff::Backoff;
use crate::ctx::{Ctx, PodRuntimeInfo};
use crate::events::EventType;
use crate::images::{display_name, Puller};
use crate::lifecycle::{kill_container, pod_full_name};
use crate::prober::{self, ProbeTarget, Probes};
use crate::status::{build_status, ContainerView, PodView, Terminal, Waiting};

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
    admitted: bool,
    terminal: Option<Terminal>,
    /// The pod reached Succeeded/Failed: containers are stopped, nothing restarts.
    finished: bool,
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
            admitted: false,
            terminal: None,
            finished: false,
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
            if !self.finished {
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

    fn start_probes(&mut self, c: &Container, init: bool, id: &str, was_ready: bool) {
        let probes = prober::start(
            ProbeTarget {
                ctx: self.ctx.clone(),
                pod: self.pod.clone(),
                container: c.clone(),
                init,
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

    /// One pass of syncPod.
    async fn sync(&mut self) -> anyhow::Result<()> {
        if self.terminal.is_some() {
            return Ok(());
        }
        let spec = self.pod.spec.clone().unwrap_or_default();
        if !self.admitted {
            if let Err(r) = admission::admit(&self.ctx, &self.uid, &spec) {
                self.ctx
                    .events
                    .pod(&self.pod, EventType::Warning, &r.reason, &r.message);
                self.terminal = Some(r.terminal());
                return Ok(());
            }
            self.admitted = true;
            self.start_time.get_or_insert_with(Utc::now);
        }
        if let (Some(deadline), Some(start)) = (spec.active_deadline_seconds, self.start_time) {
            if Utc::now() >= start + chrono::Duration::seconds(deadline) {
                let msg = "Pod was active on the node longer than the specified deadline";
                self.ctx
                    .events
                    .pod(&self.pod, EventType::Normal, "DeadlineExceeded", msg);
                self.kill_all(self.spec_grace(), Some("Stopping container"))
                    .await;
                self.terminal = Some(Terminal {
                    phase: "Failed",
                    reason: "DeadlineExceeded".into(),
                    message: msg.into(),
                });
                return Ok(());
            }
        }
        let t = std::time::Instant::now();
        let had_sandbox = self.sandbox.is_some();
        if !self.ensure_sandbox().await {
            return Ok(());
        }
        if !had_sandbox {
            tracing::debug!(pod = %self.uid, "sandbox made in {:?}", t.elapsed());
        }
        let mut instances = self.instances().await;
        let policy = spec
            .restart_policy
            .clone()
            .unwrap_or_else(|| "Always".into());

        // Init containers, in order; sidecars keep running.
        let mut initialized = true;
        for c in spec.init_containers.iter().flatten() {
            let sidecar = c.restart_policy.as_deref() == Some("Always");
            let (cur, _) = instances.get(&c.name).cloned().unwrap_or_default();
            match cur.as_ref().map(|c| c.state) {
                None | Some(RtState::Created) => {
                    self.start_or_retry(c, true, cur.as_ref()).await;
                    initialized = false;
                    if !sidecar {
                        break;
                    }
                    // A sidecar must have started before the next init container.
                    break;
                }
                Some(RtState::Running) => {
                    self.check_liveness(c, true, cur.as_ref()).await;
                    let started = cur
                        .as_ref()
                        .and_then(|x| self.probes.get(&x.id))
                        .map(|p| p.snapshot().started)
                        .unwrap_or(false);
                    if !(sidecar && started) {
                        initialized = false;
                        break;
                    }
                }
                Some(RtState::Exited) | Some(RtState::Unknown) => {
                    let cur = cur.as_ref().expect("matched Some");
                    if !sidecar && cur.exit_code == Some(0) {
                        continue;
                    }
                    initialized = false;
                    if !sidecar && policy == "Never" {
                        // The init container failed for good: the pod fails.
                        break;
                    }
                    self.restart_with_backoff(c, true, cur).await;
                    break;
                }
            }
        }
        if initialized {
            let batched = self
                .start_fresh_together(&spec.containers, &instances)
                .await;
            for c in &spec.containers {
                if batched.contains(&c.name) {
                    continue;
                }
                let (cur, _) = instances.get(&c.name).cloned().unwrap_or_default();
                match cur.as_ref().map(|c| c.state) {
                    None | Some(RtState::Created) => {
                        self.start_or_retry(c, false, cur.as_ref()).await;
                    }
                    Some(RtState::Running) => {
                        self.check_liveness(c, false, cur.as_ref()).await;
                    }
                    Some(RtState::Exited) | Some(RtState::Unknown) => {
                        let cur = cur.as_ref().expect("matched Some");
                        let failed = cur.exit_code != Some(0);
                        let restart = policy == "Always" || (policy == "OnFailure" && failed);
                        if restart {
                            self.restart_with_backoff(c, false, cur).await;
                        } else {
                            self.waiting.remove(&c.name);
                        }
                    }
                }
            }
        }
        // Normally awaited by the first container start; not if none could be started.
        self.network_ready().await;
        instances = self.instances().await;
        self.publish_info(&instances);
        Ok(())
    }

    /// Liveness/startup failure → Killing event and a graceful kill; the next pass restarts it.
    async fn check_liveness(&mut self, c: &Container, init: bool, cur: Option<&RtStatus>) {
        let Some(cur) = cur else { return };
        let kill = self.probes.get(&cur.id).and_then(|p| p.snapshot().kill);
        if let Some(order) = kill {
            self.probes.remove(&cur.id);
            let pod_grace = Duration::from_secs(
                self.pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
                    .unwrap_or(30)
                    .max(0) as u64,
            );
            let grace = order.grace.unwrap_or(pod_grace);
            kill_container(
                &self.ctx,
                &self.pod,
                Some(c),
                init,
                &cur.id,
                &self.pod_ip(),
                grace,
                Some(order.message),
            )
            .await;
            self.notify.notify_one();
        }
    }

    /// Sandbox present and ready, else created (volumes, sandbox, network).
    /// Stops every running container: app containers first, then init/sidecars.
    async fn kill_all(&mut self, grace: Duration, message: Option<&str>) {
        let instances = self.instances().await;
        let spec = self.pod.spec.clone().unwrap_or_default();
        let pod_ip = self.pod_ip();
        for group in [false, true] {
            let mut jobs = Vec::new();
            for (c, init) in all_containers(&spec)
                .into_iter()
                .filter(|(_, i)| *i == group)
            {
                if let Some((Some(cur), _)) = instances.get(&c.name) {
                    if matches!(cur.state, RtState::Running | RtState::Created) {
                        self.probes.remove(&cur.id);
                        let msg = message.map(|m| format!("{m} {}", c.name));
                        let (ctx, pod, c, id, ip) = (
                            self.ctx.clone(),
                            self.pod.clone(),
                            c.clone(),
                            cur.id.clone(),
                            pod_ip.clone(),
                        );
                        jobs.push(async move {
                            kill_container(&ctx, &pod, Some(&c), init, &id, &ip, grace, msg).await
                        });
                    }
                }
            }
            futures::future::join_all(jobs).await;
        }
    }

    /// The pod finished: nothing restarts. Stop what still runs (sidecars), then kubelet-like
    /// kill the sandbox: pause and network go (the IP is released), containers' statuses and
    /// logs stay for `kubectl logs` until the pod is deleted.
    async fn finish(&mut self) {
        self.finished = true;
        self.kill_all(self.spec_grace(), Some("Stopping container"))
            .await;
        self.probes.clear();
        self.release_admission();
        let Some(sb) = self.sandbox.as_mut().filter(|s| !s.stopped) else {
            return;
        };
        let (id, netns) = (sb.id.clone(), sb.netns.clone());
        if crate::cleanup::stop_sandbox(&self.ctx, &id, netns.as_deref(), Duration::ZERO).await {
            sb.stopped = true;
        }
        let instances = self.instances().await;
        self.publish_info(&instances);
    }

    /// Stops everything the pod has on this node and removes it.
    fn release_admission(&self) {
        if let Ok(mut a) = self.ctx.admitted.lock() {
            a.remove(&self.uid);
        }
    }

    async fn teardown(&mut self, grace: Duration) {
        self.kill_all(grace, Some("Stopping container")).await;
        // Nothing runs any more: the node's resources are free before the cleanup ends.
        self.release_admission();
        self.probes.clear();
        self.sandbox = None;
        // Ours, and any we did not know about (a crash between create and record).
        for sb in self.pod_sandboxes().await {
            crate::cleanup::remove_sandbox(
                &self.ctx,
                &sb.id,
                sb.netns_path.as_deref(),
                Duration::ZERO,
            )
            .await;
        }
        if let Err(e) = self.ctx.volumes.cleanup(&self.uid).await {
            tracing::warn!("cleaning volumes of pod {}: {e:#}", self.uid);
        }
        let spec = self.pod.spec.clone().unwrap_or_default();
        for (c, _) in all_containers(&spec) {
            let _ = self
                .ctx
                .images
                .release(&format!("pod-{}-{}", self.uid, c.name));
        }
        let (ns, name, uid) = (
            self.pod.metadata.namespace.clone().unwrap_or_default(),
            self.pod.metadata.name.clone().unwrap_or_default(),
            self.uid.clone(),
        );
        let _ = self
            .ctx
            .rt(move |rt| rt.remove_pod_logs(&ns, &name, &uid))
            .await;
        self.ctx.forget_pod(&self.uid);
    }

    /// Graceful deletion: stop, clean up, then remove the API object (grace 0, same uid).
    async fn terminate_and_delete(&mut self) {
        let grace = self.spec_grace();
        self.teardown(grace).await;
        let api: Api<Pod> = Api::namespaced(
            self.ctx.client.clone(),
            self.pod.metadata.namespace.as_deref().unwrap_or("default"),
        );
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(self.uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        let name = self.pod.metadata.name.clone().unwrap_or_default();
        match api.delete(&name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
            Err(e) => tracing::warn!("deleting pod {name}: {e}"),
        }
    }

    fn views(&self, instances: &Instances) -> (Vec<ContainerView>, Vec<ContainerView>) {
        let spec = self.pod.spec.clone().unwrap_or_default();
        let mk = |c: &Container, init: bool| -> ContainerView {
            let sidecar = init && c.restart_policy.as_deref() == Some("Always");
            let (mut cur, prev) = instances.get(&c.name).cloned().unwrap_or_default();
            // A container whose process failed to start shows that attempt as terminated
            // (StartError): the last state while it waits for the next attempt, the state
            // under restartPolicy Never, where it is done.
            let failed = self.start_failed.get(&c.name);
            let given_up = failed.filter(|_| !self.retries_failed_runs(c, init));
            if let Some(f) = failed.filter(|_| cur.is_none() || given_up.is_some()) {
                cur = Some(f.as_exited(&c.name));
            }
            let probe = cur
                .as_ref()
                .and_then(|x| self.probes.get(&x.id))
                .map(|p| p.snapshot());
            let (image, image_id) = self.images.get(&c.name).cloned().unwrap_or_else(|| {
                let img = c.image.clone().unwrap_or_default();
                (display_name(&img, None), String::new())
            });
            // A running/created container's waiting reason is stale; an exited one keeps it
            // only while it is going to restart.
            let waiting = match cur.as_ref().map(|c| c.state) {
                _ if given_up.is_some() => None,
                Some(RtState::Running) => None,
                _ => self.waiting.get(&c.name).cloned(),
            };
            ContainerView {
                name: c.name.clone(),
                image,
                image_id,
                current: cur,
                previous: prev,
                waiting,
                ready: probe
                    .as_ref()
                    .map(|p| p.ready)
                    .unwrap_or(c.readiness_probe.is_none()),
                started: probe
                    .as_ref()
                    .map(|p| p.started)
                    .unwrap_or(c.startup_probe.is_none()),
                sidecar,
            }
        };
        let init = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| mk(c, true))
            .collect();
        let apps = spec.containers.iter().map(|c| mk(c, false)).collect();
        (init, apps)
    }

    /// Writes the pod status; a pod that just finished is then stopped and its status
    /// written once more (PodReadyToStartContainers turns False).
    async fn publish_status(&mut self) {
        let phase = self.write_status().await;
        if (phase == "Succeeded" || phase == "Failed") && !self.finished {
            self.finish().await;
            self.write_status().await;
        }
    }

    /// Builds and writes the status (unless unchanged); returns its phase.
    async fn write_status(&mut self) -> String {
        let instances = self.instances().await;
        let (init, containers) = self.views(&instances);
        let mut pod = self.pod.clone();
        if let Some(last) = &self.last_status {
            // Transition times come from what we wrote last (the watch may lag behind).
            let mut st = pod.status.clone().unwrap_or_default();
            st.conditions = merge_conditions(st.conditions.take(), last.conditions.clone());
            pod.status = Some(st);
        }
        let view = PodView {
            pod: &pod,
            init,
            containers,
            sandbox_ready: self.live_sandbox().is_some()
                || self.host_network() && self.admitted && !self.finished,
            pod_ips: self.pod_ips(),
            host_ip: self.ctx.host_ip(),
            start_time: self.start_time,
            terminal: self.terminal.clone(),
            now: Utc::now(),
        };
        let status = build_status(&view);
        let phase = status.phase.clone().unwrap_or_default();
        if self
            .last_status
            .as_ref()
            .is_some_and(|l| same_status(l, &status))
        {
            return phase;
        }
        let api: Api<Pod> = Api::namespaced(
            self.ctx.client.clone(),
            self.pod.metadata.namespace.as_deref().unwrap_or("default"),
        );
        let name = self.pod.metadata.name.clone().unwrap_or_default();
        let patch = json!({ "status": status });
        tracing::debug!(pod = %self.uid, "writing status: {phase}");
        match api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                self.last_status = Some(status);
                self.status_unsent = false;
            }
            Err(e) => {
                tracing::debug!("writing status of pod {name}: {e}");
                self.status_unsent = true;
            }
        }
        phase
    }
}

/// Conditions of the watched object, with our last written ones taking precedence.
fn merge_conditions(
    watched: Option<Vec<k8s_openapi::api::core::v1::PodCondition>>,
    ours: Option<Vec<k8s_openapi::api::core::v1::PodCondition>>,
) -> Option<Vec<k8s_openapi::api::core::v1::PodCondition>> {
    let mut out = ours.unwrap_or_default();
    for c in watched.unwrap_or_default() {
        if !out.iter().any(|o| o.type_ == c.type_) {
            out.push(c);
        }
    }
    Some(out)
}

fn same_status(a: &PodStatus, b: &PodStatus) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn all_containers(spec: &k8s_openapi::api::core::v1::PodSpec) -> Vec<(&Container, bool)> {
    spec.init_containers
        .iter()
        .flatten()
        .map(|c| (c, true))
        .chain(spec.containers.iter().map(|c| (c, false)))
        .collect()
}
