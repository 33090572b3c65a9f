//! Node lifecycle: nodes whose agent stops heartbeating (Lease in `kube-node-lease` and the
//! Ready condition) go Ready=Unknown after the grace period and their pods are marked not
//! ready; taints follow the conditions (unreachable / not-ready NoSchedule+NoExecute, and
//! the pressure taints); pods on NoExecute-tainted nodes are evicted once their tolerations
//! run out (`TaintManagerEviction`). Runs as one periodic pass, woken early by node and lease
//! changes, by pending eviction deadlines, and by pod changes while some node has a NoExecute
//! taint (only then can a pod change call for an eviction; a pass looks at every pod, so
//! waking on each pod write of a busy cluster would cost O(pods) per write).

mod eviction;
mod health;
mod taints;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::ownership::{ignore_lost_race, ignore_not_found};
use crate::{events, nodeutil, podutil};
use eviction::Eviction;

pub use peapod_apimachinery::well_known::NODE_LEASE_NAMESPACE;
const COMPONENT: &str = "node-controller";

#[derive(Clone, Debug)]
pub struct NodeLifecycleConfig {
    /// How often every node is checked (changes wake the controller earlier).
    pub monitor_period: Duration,
    /// Silence after which a node that has reported before goes Unknown.
    pub grace_period: Duration,
    /// Silence allowed to a node that never reported Ready.
    pub startup_grace_period: Duration,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            monitor_period: Duration::from_secs(5),
            grace_period: Duration::from_secs(40),
            startup_grace_period: Duration::from_secs(60),
        }
    }
}

#[derive(Default)]
struct State {
    tracker: health::Tracker,
    /// Pods this controller deleted that the cache may still show as live.
    evicted: HashSet<String>,
}

pub async fn run(ctx: Arc<Context>, cfg: NodeLifecycleConfig) {
    let mut state = State::default();
    let mut nodes = ctx.nodes.subscribe();
    let mut pods = ctx.pods.subscribe();
    let mut leases = ctx.node_leases.subscribe();
    let mut clock = ctx.clock.subscribe();
    let period = cfg.monitor_period.max(Duration::from_millis(50));
    loop {
        let outcome = match pass(&ctx, &cfg, &mut state).await {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), "node lifecycle pass failed");
                Outcome {
                    next_eviction: None,
                    pods_matter: true,
                }
            }
        };
        let now = ctx.clock.now();
        let wait = outcome
            .next_eviction
            .map(|at| (at - now).to_std().unwrap_or_default() + Duration::from_millis(20))
            .map_or(period, |d| d.min(period));
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut other = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => true,
                Some(_) = nodes.recv() => true,
                Some(_) = pods.recv() => false,
                Some(_) = leases.recv() => true,
                Ok(_) = clock.changed() => true,
            };
            // One pass covers every change that arrived meanwhile.
            loop {
                if nodes.try_recv().is_ok() || leases.try_recv().is_ok() {
                    other = true;
                } else if pods.try_recv().is_err() {
                    break;
                }
            }
            if other || outcome.pods_matter {
                break;
            }
        }
    }
}

/// What a pass leaves for the next wake-up.
struct Outcome {
    /// The earliest pending eviction deadline.
    next_eviction: Option<DateTime<Utc>>,
    /// Some node has a NoExecute taint: a pod change may call for an eviction.
    pods_matter: bool,
}

/// Checks every node once.
async fn pass(
    ctx: &Context,
    cfg: &NodeLifecycleConfig,
    state: &mut State,
) -> anyhow::Result<Outcome> {
    let now = ctx.clock.now();
    let nodes = ctx.nodes.store().state();
    let names: HashSet<String> = nodes.iter().map(|n| n.name_any()).collect();
    state.tracker.retain(|n| names.contains(n));
    let mut by_node: HashMap<String, Vec<Arc<Pod>>> = HashMap::new();
    let mut live_uids = HashSet::new();
    for p in ctx.pods.store().state() {
        live_uids.insert(p.uid().unwrap_or_default());
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        if let Some(n) = node.filter(|n| !n.is_empty()) {
            by_node.entry(n).or_default().push(p);
        }
    }
    state.evicted.retain(|uid| live_uids.contains(uid));

    let leases = ctx.node_leases.store();
    let mut next = None;
    let mut pods_matter = false;
    for cached in nodes {
        let name = cached.name_any();
        let renewed = leases
            .get(&ObjectRef::new(&name).within(NODE_LEASE_NAMESPACE))
            .and_then(|l| l.spec.as_ref()?.renew_time.clone())
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0));
        let seen = state
            .tracker
            .observe(&name, renewed, health::ready_heartbeat(&cached), now);
        let grace = if health::ready_condition(&cached).is_none() {
            cfg.startup_grace_period
        } else {
            cfg.grace_period
        };
        let silent = (now - seen).to_std().unwrap_or_default() > grace;
        let pods = by_node.get(&name).map(Vec::as_slice).unwrap_or_default();
        let mut node = (*cached).clone();
        if silent {
            if let Some(conds) = health::unknown_conditions(&node, now) {
                let Some(updated) = set_conditions(ctx, &node, conds).await? else {
                    continue;
                };
                node = updated;
                let msg = format!("Node {name} status is now: NodeNotReady");
                events::record(
                    ctx,
                    COMPONENT,
                    events::reference(&node),
                    events::NORMAL,
                    "NodeNotReady",
                    &msg,
                )
                .await;
                mark_pods_not_ready(ctx, pods, now).await?;
            }
        }
        if let Some(taints) = taints::desired(&node, now) {
            let Some(updated) = set_taints(ctx, &node, taints).await? else {
                continue;
            };
            node = updated;
        }
        let taints = nodeutil::taints(&node);
        pods_matter |= taints.iter().any(|t| t.effect == nodeutil::NO_EXECUTE);
        for pod in pods.iter().filter(|p| podutil::is_active(p)) {
            let uid = pod.uid().unwrap_or_default();
            if state.evicted.contains(&uid) {
                continue;
            }
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.as_deref())
                .unwrap_or_default();
            match eviction::decide(tolerations, taints, now) {
                Eviction::Never => {}
                Eviction::At(at) => next = Some(next.map_or(at, |n: DateTime<Utc>| n.min(at))),
                Eviction::Now => {
                    evict(ctx, pod, now).await?;
                    state.evicted.insert(uid);
                }
            }
        }
    }
    Ok(Outcome {
        next_eviction: next,
        pods_matter,
    })
}

/// Writes the node's conditions, pinned to the version judged (a heartbeat that raced in
/// wins; the next pass looks again).
async fn set_conditions(
    ctx: &Context,
    node: &Node,
    conditions: Vec<k8s_openapi::api::core::v1::NodeCondition>,
) -> kube::Result<Option<Node>> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    let body = json!({
        "metadata": {"resourceVersion": node.metadata.resource_version},
        "status": {"conditions": conditions},
    });
    ignore_lost_race(
        api.patch_status(
            &node.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )
}

async fn set_taints(
    ctx: &Context,
    node: &Node,
    taints: Vec<k8s_openapi::api::core::v1::Taint>,
) -> kube::Result<Option<Node>> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    let body = json!({
        "metadata": {"resourceVersion": node.metadata.resource_version},
        "spec": {"taints": if taints.is_empty() { None } else { Some(taints) }},
    });
    ignore_lost_race(
        api.patch(
            &node.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )
}

/// Sets (or replaces) one pod condition through `pods/status`.
async fn set_pod_condition(ctx: &Context, pod: &Pod, cond: PodCondition) -> kube::Result<()> {
    let mut conds: Vec<PodCondition> = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    conds.retain(|c| c.type_ != cond.type_);
    conds.push(cond);
    let api: Api<Pod> = ctx.api(&pod.namespace().unwrap_or_default());
    let body = json!({
        "metadata": {"resourceVersion": pod.metadata.resource_version},
        "status": {"conditions": conds},
    });
    ignore_lost_race(
        api.patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )?;
    Ok(())
}

/// Nobody can vouch for the pods of a silent node: they stop counting as ready (Services
/// and controllers react to that).
async fn mark_pods_not_ready(
    ctx: &Context,
    pods: &[Arc<Pod>],
    now: DateTime<Utc>,
) -> kube::Result<()> {
    for pod in pods
        .iter()
        .filter(|p| podutil::is_active(p) && podutil::is_ready(p))
    {
        let cond = PodCondition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: Some("NodeNotReady".into()),
            message: Some("the node's status is unknown".into()),
            last_transition_time: Some(peapod_apimachinery::timeconv::time(now)),
            ..Default::default()
        };
        set_pod_condition(ctx, pod, cond).await?;
    }
    Ok(())
}

async fn evict(ctx: &Context, pod: &Pod, now: DateTime<Utc>) -> kube::Result<()> {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    // Says why the pod goes (Jobs' podFailurePolicy can match it); best effort.
    let cond = PodCondition {
        type_: "DisruptionTarget".into(),
        status: "True".into(),
        reason: Some("DeletionByTaintManager".into()),
        message: Some("Taint manager: deleting due to NoExecute taint".into()),
        last_transition_time: Some(peapod_apimachinery::timeconv::time(now)),
        ..Default::default()
    };
    if let Err(e) = set_pod_condition(ctx, pod, cond).await {
        tracing::debug!(pod = %name, error = %e, "could not mark the pod as a disruption target");
    }
    let api: Api<Pod> = ctx.api(&ns);
    ignore_not_found(api.delete(&name, &DeleteParams::default()).await)?;
    let msg = format!("Marking for deletion Pod {ns}/{name}");
    events::record(
        ctx,
        COMPONENT,
        events::reference(pod),
        events::NORMAL,
        "TaintManagerEviction",
        &msg,
    )
    .await;
    Ok(())
}
