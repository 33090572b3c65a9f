//! DaemonSet: one pod per eligible node, pinned to it by required node affinity on
//! `metadata.name`; rolls template changes out (RollingUpdate with maxUnavailable/maxSurge,
//! or OnDelete) through ControllerRevisions; reports the per-node status counters.

mod placement;
mod plan;
mod status;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::deployment::util::scaled_value;
use crate::informer::Change;
use crate::ownership::{self, claim, controller_ref, ignore_not_found};
use crate::replicaset::slow_start;
use crate::revisions::{self, HashCollision};
use crate::runner::{self, ReconcileResult};
use crate::{events, podutil};
use peapod_apimachinery::selectors;
use placement::Placement;
use plan::{PodView, Strategy};

pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
const RESYNC: Duration = Duration::from_secs(300);
const COMPONENT: &str = "daemonset-controller";

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![pod_triggers(&ctx), node_triggers(&ctx)];
    runner::run(
        "daemonset",
        &ctx.daemonsets,
        triggers,
        workers,
        ctx.clone(),
        reconcile,
    )
    .await;
}

fn pod_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<DaemonSet>> {
    runner::owned_pod_triggers(
        ctx.pods.subscribe(),
        ctx.daemonsets.store(),
        "DaemonSet",
        |o, labels| {
            o.spec.as_ref().is_some_and(|s| {
                peapod_apimachinery::selectors::workload_selects(&s.selector, labels)
            })
        },
    )
}

/// Any node change (new node, labels, taints) may change where daemon pods belong.
fn node_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<DaemonSet>> {
    let store = ctx.daemonsets.store();
    runner::map_changes(ctx.nodes.subscribe(), move |_: &Change<Node>| {
        store
            .state()
            .iter()
            .map(|ds| ObjectRef::from_obj(&**ds))
            .collect()
    })
}

fn strategy(ds: &DaemonSet, desired: i32) -> anyhow::Result<Strategy> {
    let s = ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    if s.and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return Ok(Strategy::OnDelete);
    }
    let ru = s.and_then(|s| s.rolling_update.as_ref());
    let surge = scaled_value(ru.and_then(|r| r.max_surge.as_ref()), desired, "0", true)
        .map_err(anyhow::Error::msg)?;
    let unavailable = scaled_value(
        ru.and_then(|r| r.max_unavailable.as_ref()),
        desired,
        "1",
        true,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(Strategy::RollingUpdate {
        max_surge: surge,
        max_unavailable: if surge == 0 && unavailable == 0 {
            1
        } else {
            unavailable
        },
    })
}

fn view(pod: &Pod, hash: &str, min_ready: i32, now: chrono::DateTime<chrono::Utc>) -> PodView {
    PodView {
        name: pod.name_any(),
        created: pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0)),
        updated: pod.labels().get(revisions::HASH_LABEL).map(String::as_str) == Some(hash),
        ready: podutil::is_ready(pod),
        available: podutil::is_available(pod, min_ready, now),
        failed: podutil::phase(pod) == "Failed",
        succeeded: podutil::phase(pod) == "Succeeded",
        terminating: pod.metadata.deletion_timestamp.is_some(),
    }
}

async fn reconcile(ds: Arc<DaemonSet>, ctx: Arc<Context>) -> ReconcileResult {
    let ns = ds.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&ds.metadata).to_string();
    let Some(spec) = ds.spec.as_ref() else {
        return Ok(Action::requeue(RESYNC));
    };
    let deleting = ds.metadata.deletion_timestamp.is_some();
    let pods_api: Api<Pod> = ctx.api(&ns);
    let owned = claim(
        &pods_api,
        &controller_ref(&*ds),
        deleting,
        ctx.pods_in(&ns),
        |p| selectors::workload_selects(&spec.selector, p.metadata.labels.as_ref()),
    )
    .await?;
    let mut revs = revisions::claim_revisions(&ctx, &*ds, &spec.selector).await?;
    let collisions = ds.status.as_ref().and_then(|s| s.collision_count);
    let hash = if deleting {
        revisions::hash_of(&revisions::data_for(&spec.template), collisions)
    } else {
        match revisions::ensure(&ctx, &*ds, &spec.template, collisions, &mut revs).await {
            Ok(cur) => revisions::hash_label(&cur).to_string(),
            Err(e) if e.is::<HashCollision>() => {
                bump_collision_count(&ctx, &ds).await?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
    };

    let now = ctx.clock.now();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let placements: BTreeMap<String, Placement> = ctx
        .nodes
        .store()
        .state()
        .iter()
        .map(|n| {
            let p = match spec.template.spec.as_ref() {
                Some(s) => placement::placement(s, n),
                None => Placement {
                    should_run: false,
                    should_continue_running: false,
                },
            };
            (n.name_any(), p)
        })
        .collect();
    let mut by_node: BTreeMap<String, Vec<PodView>> = BTreeMap::new();
    for p in &owned {
        // A pod pinned nowhere cannot be a daemon pod: it is filed under no node and deleted.
        let node = placement::target_node(p).unwrap_or_default();
        by_node
            .entry(node)
            .or_default()
            .push(view(p, &hash, min_ready, now));
    }

    let settled = ctx.pods_settled(&ns, &uid);
    if settled && !deleting {
        let desired = placements.values().filter(|p| p.should_run).count();
        let strategy = strategy(&ds, crate::replicaset::count(desired))
            .map_err(|e| anyhow::anyhow!("invalid rolling update parameters: {e}"))?;
        let todo = plan::plan(&placements, &by_node, strategy);
        apply(&ctx, &ds, &hash, &todo).await?;
    }

    let live_hashes: HashSet<&str> = owned
        .iter()
        .filter_map(|p| p.labels().get(revisions::HASH_LABEL).map(String::as_str))
        .chain([hash.as_str()])
        .collect();
    let in_use: HashSet<String> = revs
        .iter()
        .filter(|r| live_hashes.contains(revisions::hash_label(r)))
        .map(|r| r.name_any())
        .collect();
    if !deleting {
        let limit = spec.revision_history_limit.unwrap_or(10);
        revisions::truncate_history(&ctx, &revs, &in_use, limit).await?;
    }

    let status = status::compute(&ds, &placements, &by_node);
    if ds.status.as_ref() != Some(&status) {
        let api: Api<DaemonSet> = ctx.api(&ns);
        let body = json!({"status": crate::status::clearing_nulls(&status, &[])?});
        ignore_not_found(
            api.patch_status(
                &ds.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await,
        )?;
    }
    Ok(crate::replicaset::next_check(
        &owned, min_ready, now, settled,
    ))
}

async fn bump_collision_count(ctx: &Context, ds: &DaemonSet) -> kube::Result<()> {
    let next = ds
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0)
        .saturating_add(1);
    let api: Api<DaemonSet> = ctx.api(&ds.namespace().unwrap_or_default());
    let body = json!({"status": {"collisionCount": next}});
    ignore_not_found(
        api.patch_status(
            &ds.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )?;
    Ok(())
}

/// A pod for `node` from the current template, pinned there, with the daemon tolerations.
fn daemon_pod(ds: &DaemonSet, hash: &str, node: &str) -> anyhow::Result<Pod> {
    let Some(spec) = ds.spec.as_ref() else {
        anyhow::bail!("daemonset has no spec");
    };
    let mut extra = BTreeMap::new();
    extra.insert(revisions::HASH_LABEL.to_string(), hash.to_string());
    if let Some(g) = ds.metadata.generation {
        extra.insert(TEMPLATE_GENERATION_LABEL.to_string(), g.to_string());
    }
    let mut pod = podutil::pod_from_template(
        &spec.template,
        &ds.namespace().unwrap_or_default(),
        controller_ref(ds),
        None,
        Some(podutil::generate_name_prefix(&ds.name_any())),
        &extra,
    );
    let Some(pod_spec) = pod.spec.as_mut() else {
        anyhow::bail!("spec.template.spec is missing");
    };
    placement::add_default_tolerations(pod_spec);
    placement::pin_to_node(pod_spec, node);
    Ok(pod)
}

async fn apply(ctx: &Context, ds: &DaemonSet, hash: &str, todo: &plan::Plan) -> anyhow::Result<()> {
    let ns = ds.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&ds.metadata);
    let api: Api<Pod> = ctx.api(&ns);
    for name in &todo.delete {
        ctx.expectations.deleted(uid, name);
        ignore_not_found(api.delete(name, &DeleteParams::default()).await)?;
    }
    let created = slow_start(todo.create_on.len(), |i| {
        let api = api.clone();
        let node = todo.create_on[i].clone();
        async move {
            let pod = daemon_pod(ds, hash, &node)?;
            match api.create(&PostParams::default(), &pod).await {
                Ok(p) => {
                    ctx.expectations.created(uid, &p.name_any());
                    Ok(())
                }
                Err(e) => {
                    let msg = format!("Error creating: {e}");
                    events::record(
                        ctx,
                        COMPONENT,
                        events::reference(ds),
                        events::WARNING,
                        "FailedCreate",
                        &msg,
                    )
                    .await;
                    Err(e.into())
                }
            }
        }
    })
    .await;
    created.map(|_| ())
}
