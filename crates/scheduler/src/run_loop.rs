//! The loop around the pure algorithm: reflectors keep nodes and pods in memory, each pass builds
//! node views (bound pods + pods this scheduler assumed but has not yet seen bound), schedules
//! every ready pending pod, and hands API writes to background tasks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::algorithm::{self, Outcome, Preemption};
use crate::api::{self, NotScheduled};
use crate::change;
use crate::events::{EventType, Recorder};
use crate::filters::PodContext;
use crate::message;
use crate::node_info::{pod_key, NodeInfo, PlacedPod};
use crate::queue::Queue;
use crate::{is_bound, is_terminal, wants_scheduling, SchedulerConfig};

/// Wakes the loop; `changed` says a node or a placed pod changed in a way filters can see.
#[derive(Default)]
struct Signals {
    notify: Notify,
    changed: AtomicBool,
}

impl Signals {
    fn wake(&self) {
        self.notify.notify_one();
    }
    fn cluster_changed(&self) {
        self.changed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// What a background bind reports back.
enum Done {
    Bound {
        uid: String,
    },
    BindFailed {
        uid: String,
        pod: Arc<Pod>,
        error: kube::Error,
    },
}

/// A pod this scheduler placed whose binding the watch has not shown yet.
struct Assumed {
    node: String,
    placed: PlacedPod,
}

struct AbortOnDrop(Vec<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

/// Schedules pods until the task running it is aborted. Errors only if a watch dies for good.
pub async fn run(client: Client, cfg: SchedulerConfig) -> anyhow::Result<()> {
    let signals = Arc::new(Signals::default());
    let (nodes, node_writer) = reflector::store::<Node>();
    let (pods, pod_writer) = reflector::store::<Pod>();
    let watches = AbortOnDrop(vec![
        tokio::spawn(watch_nodes(
            Api::all(client.clone()),
            node_writer,
            signals.clone(),
        )),
        tokio::spawn(watch_pods(
            Api::all(client.clone()),
            pod_writer,
            signals.clone(),
        )),
    ]);
    nodes
        .wait_until_ready()
        .await
        .context("node watch ended before its first list")?;
    pods.wait_until_ready()
        .await
        .context("pod watch ended before its first list")?;
    tracing::info!(scheduler = %cfg.scheduler_name, "scheduler started");

    let instance = format!("{}-{}", cfg.scheduler_name, hostname());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut sched = Scheduler {
        recorder: Arc::new(Recorder::new(
            client.clone(),
            cfg.scheduler_name.clone(),
            instance,
        )),
        queue: Queue::new(cfg.backoff),
        bind_slots: Arc::new(Semaphore::new(cfg.bind_concurrency.max(1))),
        report_slots: Arc::new(Semaphore::new(cfg.bind_concurrency.max(1))),
        assumed: HashMap::new(),
        client,
        cfg,
        nodes,
        pods,
        done_tx,
    };
    loop {
        if watches.0.iter().any(JoinHandle::is_finished) {
            anyhow::bail!("a watch task of the scheduler ended");
        }
        while let Ok(done) = done_rx.try_recv() {
            sched.handle_done(done);
        }
        if signals.changed.swap(false, Ordering::SeqCst) {
            sched.queue.cluster_changed();
        }
        sched.pass();
        let wake_at = sched
            .queue
            .next_wakeup()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = signals.notify.notified() => {}
            Some(done) = done_rx.recv() => sched.handle_done(done),
            _ = tokio::time::sleep_until(wake_at.into()) => {}
        }
    }
}

struct Scheduler {
    client: Client,
    cfg: SchedulerConfig,
    nodes: Store<Node>,
    pods: Store<Pod>,
    recorder: Arc<Recorder>,
    queue: Queue,
    assumed: HashMap<String, Assumed>,
    bind_slots: Arc<Semaphore>,
    report_slots: Arc<Semaphore>,
    done_tx: mpsc::UnboundedSender<Done>,
}

impl Scheduler {
    fn handle_done(&mut self, done: Done) {
        match done {
            Done::Bound { uid } => self.recorder.forget_pod(&uid),
            Done::BindFailed { uid, pod, error } => {
                tracing::warn!(pod = %pod_key(&pod), "binding failed: {error}");
                self.assumed.remove(&uid);
                self.queue
                    .failed(&uid, change::pending_pod_fingerprint(&pod), Instant::now());
                // The assumed resources are free again.
                self.queue.cluster_changed();
                let already_bound =
                    matches!(&error, kube::Error::Api(s) if s.code == 409 || s.code == 404);
                if !already_bound {
                    let report = NotScheduled {
                        reason: "SchedulerError".into(),
                        message: format!("binding rejected: {error}"),
                        nominated_node: None,
                    };
                    self.report(pod, report);
                }
            }
        }
    }

    /// One pass: rebuild node views, then try every ready pending pod, most important first.
    fn pass(&mut self) {
        let now = Instant::now();
        let pods = self.pods.state();
        let by_uid: HashMap<&str, &Arc<Pod>> = pods
            .iter()
            .filter_map(|p| Some((p.metadata.uid.as_deref()?, p)))
            .collect();
        // An assumption ends when the watch shows the pod bound, or the pod is gone.
        self.assumed
            .retain(|uid, _| by_uid.get(uid.as_str()).is_some_and(|p| !is_bound(p)));

        let mut infos: Vec<NodeInfo> = self.nodes.state().into_iter().map(NodeInfo::new).collect();
        infos.sort_by(|a, b| a.name().cmp(b.name()));
        let index: HashMap<String, usize> = infos
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name().to_string(), i))
            .collect();
        for pod in pods.iter().filter(|p| is_bound(p) && !is_terminal(p)) {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or_default();
            let Some(&i) = index.get(node) else { continue };
            match PlacedPod::from_pod(pod) {
                Ok(placed) => infos[i].add_pod(placed),
                Err(e) => {
                    tracing::warn!(pod = %pod_key(pod), "ignoring requests of a bound pod: {e}")
                }
            }
        }
        for a in self.assumed.values() {
            if let Some(&i) = index.get(&a.node) {
                infos[i].add_pod(a.placed.clone());
            }
        }

        let mut pending: Vec<&Arc<Pod>> = pods
            .iter()
            .filter(|p| wants_scheduling(p, &self.cfg.scheduler_name))
            .filter(|p| {
                !self
                    .assumed
                    .contains_key(p.metadata.uid.as_deref().unwrap_or_default())
            })
            .collect();
        let pending_uids: std::collections::HashSet<&str> = pending
            .iter()
            .filter_map(|p| p.metadata.uid.as_deref())
            .collect();
        self.queue.retain(|uid| pending_uids.contains(uid));
        pending.sort_by(|a, b| {
            let prio = |p: &Pod| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
            prio(b)
                .cmp(&prio(a))
                .then_with(|| {
                    a.metadata
                        .creation_timestamp
                        .cmp(&b.metadata.creation_timestamp)
                })
                .then_with(|| pod_key(a).cmp(&pod_key(b)))
        });

        let mut rng = rand::rng();
        for pod in pending {
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if !self
                .queue
                .is_ready(&uid, || change::pending_pod_fingerprint(pod), now)
            {
                continue;
            }
            let fingerprint = change::pending_pod_fingerprint(pod);
            let ctx = match PodContext::new(pod) {
                Ok(ctx) => ctx,
                Err(e) => {
                    self.queue.failed(&uid, fingerprint, now);
                    let report = NotScheduled {
                        reason: "SchedulerError".into(),
                        message: e.to_string(),
                        nominated_node: None,
                    };
                    self.report(pod.clone(), report);
                    continue;
                }
            };
            match algorithm::schedule(&ctx, &infos, &mut rng) {
                Outcome::Fits(i) => {
                    let placed = PlacedPod {
                        uid: uid.clone(),
                        key: pod_key(pod),
                        priority: ctx.priority,
                        requests: ctx.requests.clone(),
                        non_zero_requests: ctx.non_zero_requests.clone(),
                        host_ports: ctx.host_ports.clone(),
                        terminating: false,
                    };
                    infos[i].add_pod(placed.clone());
                    let node = infos[i].name().to_string();
                    self.assumed.insert(
                        uid.clone(),
                        Assumed {
                            node: node.clone(),
                            placed,
                        },
                    );
                    self.queue.forget(&uid);
                    self.bind(pod.clone(), node);
                }
                Outcome::Unschedulable { message, preempt } => {
                    self.queue.failed(&uid, fingerprint, now);
                    let nominated_node = preempt.as_ref().map(|p| infos[p.node].name().to_string());
                    if let Some(p) = preempt {
                        self.preempt(pod, &p, &infos, &by_uid);
                    }
                    self.report(
                        pod.clone(),
                        NotScheduled {
                            reason: "Unschedulable".into(),
                            message,
                            nominated_node,
                        },
                    );
                }
                Outcome::NoNodes => {
                    self.queue.failed(&uid, fingerprint, now);
                    let report = NotScheduled {
                        reason: "SchedulerError".into(),
                        message: message::NO_NODES.into(),
                        nominated_node: None,
                    };
                    self.report(pod.clone(), report);
                }
            }
        }
    }

    fn pod_api(&self, pod: &Pod) -> Api<Pod> {
        Api::namespaced(
            self.client.clone(),
            pod.metadata.namespace.as_deref().unwrap_or("default"),
        )
    }

    fn bind(&self, pod: Arc<Pod>, node: String) {
        let api = self.pod_api(&pod);
        let slots = self.bind_slots.clone();
        let recorder = self.recorder.clone();
        let done = self.done_tx.clone();
        tokio::spawn(async move {
            let Ok(_permit) = slots.acquire_owned().await else {
                return;
            };
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            match api::bind(&api, &pod, &node).await {
                Ok(()) => {
                    tracing::debug!(pod = %pod_key(&pod), node, "bound");
                    let _ = done.send(Done::Bound { uid });
                    let msg = format!("Successfully assigned {} to {node}", pod_key(&pod));
                    recorder
                        .pod_event(&pod, EventType::Normal, "Scheduled", "Binding", &msg)
                        .await;
                }
                Err(error) => {
                    let _ = done.send(Done::BindFailed { uid, pod, error });
                }
            }
        });
    }

    /// FailedScheduling event (aggregated) and the PodScheduled=False condition.
    fn report(&self, pod: Arc<Pod>, report: NotScheduled) {
        let api = self.pod_api(&pod);
        let slots = self.report_slots.clone();
        let recorder = self.recorder.clone();
        tokio::spawn(async move {
            let Ok(_permit) = slots.acquire_owned().await else {
                return;
            };
            recorder
                .pod_event(
                    &pod,
                    EventType::Warning,
                    "FailedScheduling",
                    "Scheduling",
                    &report.message,
                )
                .await;
            if api::already_reported(&pod, &report) {
                return;
            }
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            let uid = pod.metadata.uid.as_deref().unwrap_or_default();
            if let Err(e) = api::set_not_scheduled(&api, name, uid, &report).await {
                tracing::warn!(pod = %pod_key(&pod), "updating PodScheduled failed: {e}");
            }
        });
    }

    /// Evicts the chosen lower-priority pods; the preemptor is retried once they are gone.
    fn preempt(
        &self,
        preemptor: &Pod,
        p: &Preemption,
        infos: &[NodeInfo],
        by_uid: &HashMap<&str, &Arc<Pod>>,
    ) {
        let node = infos[p.node].name().to_string();
        let preemptor_uid = preemptor.metadata.uid.clone().unwrap_or_default();
        for v in &p.victims {
            let Some(victim) = by_uid.get(v.uid.as_str()).map(|p| (*p).clone()) else {
                continue;
            };
            let api = self.pod_api(&victim);
            let recorder = self.recorder.clone();
            let condition_msg = format!(
                "{}: preempting to accommodate a higher priority pod",
                self.cfg.scheduler_name
            );
            let event_msg = format!("Preempted by pod {preemptor_uid} on node {node}");
            tracing::info!(victim = %v.key, preemptor = %pod_key(preemptor), node, "preempting");
            tokio::spawn(async move {
                let name = victim.metadata.name.as_deref().unwrap_or_default();
                let uid = victim.metadata.uid.as_deref().unwrap_or_default();
                match api::preempt_victim(&api, name, uid, &condition_msg).await {
                    Ok(()) => {
                        recorder
                            .pod_event(
                                &victim,
                                EventType::Normal,
                                "Preempted",
                                "Preempting",
                                &event_msg,
                            )
                            .await
                    }
                    Err(e) => tracing::warn!(pod = %pod_key(&victim), "preemption failed: {e}"),
                }
            });
        }
    }
}

async fn watch_nodes(
    api: Api<Node>,
    writer: reflector::store::Writer<Node>,
    signals: Arc<Signals>,
) {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let stream = watcher(api).default_backoff().reflect(writer);
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(n) | Event::InitApply(n)) => {
                let fp = change::node_fingerprint(&n);
                if seen.insert(n.metadata.name.clone().unwrap_or_default(), fp) != Some(fp) {
                    signals.cluster_changed();
                }
            }
            Ok(Event::Delete(n)) => {
                seen.remove(n.metadata.name.as_deref().unwrap_or_default());
                signals.cluster_changed();
            }
            Ok(Event::Init) => {}
            Ok(Event::InitDone) => signals.cluster_changed(),
            Err(e) => tracing::warn!("node watch: {e}"),
        }
    }
}

async fn watch_pods(api: Api<Pod>, writer: reflector::store::Writer<Pod>, signals: Arc<Signals>) {
    let mut placed: HashMap<String, u64> = HashMap::new();
    let stream = watcher(api).default_backoff().reflect(writer);
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(p) | Event::InitApply(p)) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                match change::placed_pod_fingerprint(&p) {
                    Some(fp) if placed.insert(uid, fp) != Some(fp) => signals.cluster_changed(),
                    Some(_) => {}
                    // A pending pod appeared or changed: only it needs a look.
                    None => signals.wake(),
                }
            }
            Ok(Event::Delete(p)) => {
                if placed
                    .remove(p.metadata.uid.as_deref().unwrap_or_default())
                    .is_some()
                {
                    signals.cluster_changed();
                } else {
                    signals.wake();
                }
            }
            Ok(Event::Init) => {}
            Ok(Event::InitDone) => signals.cluster_changed(),
            Err(e) => tracing::warn!("pod watch: {e}"),
        }
    }
}

fn watcher<K>(api: Api<K>) -> impl futures::Stream<Item = watcher::Result<Event<K>>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watcher::watcher(api, watcher::Config::default())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
