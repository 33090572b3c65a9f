//! StatefulSet: pods with stable names and hostnames (`<set>-0..N-1`), created and removed
//! in order (OrderedReady) or all at once (Parallel), rolled out from the highest ordinal
//! down to `partition` (or OnDelete) through ControllerRevisions.
//! `volumeClaimTemplates` need persistent volumes this server does not provide: the API
//! server rejects them, and a set that has them anyway gets no pods and a condition saying
//! why.

mod identity;
mod plan;
mod status;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::ownership::{self, claim, controller_ref, ignore_not_found};
use crate::revisions::{self, HashCollision};
use crate::runner::{self, ReconcileResult};
use crate::{events, podutil};
use peapod_apimachinery::selectors;
use plan::{PodView, Revision, Step, Strategy};

const RESYNC: Duration = Duration::from_secs(300);
const COMPONENT: &str = "statefulset-controller";
const UNSUPPORTED_MESSAGE: &str = "spec.volumeClaimTemplates is not supported by this server (no persistent volume provisioning): no pods are created";

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![pod_triggers(&ctx)];
    runner::run(
        "statefulset",
        &ctx.statefulsets,
        triggers,
        workers,
        ctx.clone(),
        reconcile,
    )
    .await;
}

fn pod_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<StatefulSet>> {
    runner::owned_pod_triggers(
        ctx.pods.subscribe(),
        ctx.statefulsets.store(),
        "StatefulSet",
        |o, labels| {
            o.spec.as_ref().is_some_and(|s| {
                peapod_apimachinery::selectors::workload_selects(&s.selector, labels)
            })
        },
    )
}

fn strategy(sts: &StatefulSet) -> Strategy {
    let s = sts.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    if s.and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return Strategy::OnDelete;
    }
    Strategy::RollingUpdate {
        partition: s
            .and_then(|s| s.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .unwrap_or(0),
    }
}

async fn reconcile(sts: Arc<StatefulSet>, ctx: Arc<Context>) -> ReconcileResult {
    let ns = sts.namespace().unwrap_or_default();
    let set = sts.name_any();
    let uid = ownership::uid_of(&sts.metadata).to_string();
    let Some(spec) = sts.spec.as_ref() else {
        return Ok(Action::requeue(RESYNC));
    };
    let deleting = sts.metadata.deletion_timestamp.is_some();
    let pods_api: Api<Pod> = ctx.api(&ns);
    // Only pods named like the set's members belong to it.
    let owned = claim(
        &pods_api,
        &controller_ref(&*sts),
        deleting,
        ctx.pods_in(&ns),
        |p| {
            selectors::workload_selects(&spec.selector, p.metadata.labels.as_ref())
                && identity::ordinal_of(&set, &p.name_any()).is_some()
        },
    )
    .await?;

    let mut revs = revisions::claim_revisions(&ctx, &*sts, &spec.selector).await?;
    let collisions = sts.status.as_ref().and_then(|s| s.collision_count);
    let update_rev: Option<ControllerRevision> = if deleting {
        revs.iter()
            .find(|r| revisions::same_data(r, &revisions::data_for(&spec.template)))
            .cloned()
    } else {
        match revisions::ensure(&ctx, &*sts, &spec.template, collisions, &mut revs).await {
            Ok(r) => Some(r),
            Err(e) if e.is::<HashCollision>() => {
                bump_collision_count(&ctx, &sts).await?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
    };
    let update_name = update_rev
        .as_ref()
        .map(|r| r.name_any())
        .unwrap_or_default();
    let current_rev = sts
        .status
        .as_ref()
        .and_then(|s| s.current_revision.as_ref())
        .and_then(|n| revs.iter().find(|r| &r.name_any() == n))
        .cloned()
        .or(update_rev.clone());
    let current_name = current_rev
        .as_ref()
        .map(|r| r.name_any())
        .unwrap_or_default();

    let unsupported = spec
        .volume_claim_templates
        .as_ref()
        .is_some_and(|v| !v.is_empty());
    if unsupported && !has_unsupported_condition(&sts) {
        events::record(
            &ctx,
            COMPONENT,
            events::reference(&*sts),
            events::WARNING,
            status::UNSUPPORTED_CONDITION,
            UNSUPPORTED_MESSAGE,
        )
        .await;
    }

    let now = ctx.clock.now();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let settled = ctx.pods_settled(&ns, &uid);
    if settled && !deleting && !unsupported {
        let views: Vec<PodView> = owned
            .iter()
            .filter_map(|p| {
                let ordinal = identity::ordinal_of(&set, &p.name_any())?;
                Some(PodView {
                    name: p.name_any(),
                    ordinal,
                    revision: p
                        .labels()
                        .get(revisions::HASH_LABEL)
                        .cloned()
                        .unwrap_or_default(),
                    healthy: status::running_and_available(p, min_ready, now),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                    finished: podutil::is_terminal(p),
                })
            })
            .collect();
        let input = plan::Input {
            start: spec
                .ordinals
                .as_ref()
                .and_then(|o| o.start)
                .unwrap_or(0)
                .max(0),
            replicas: spec.replicas.unwrap_or(1),
            ordered: spec.pod_management_policy.as_deref() != Some("Parallel"),
            strategy: strategy(&sts),
            current_revision: &current_name,
            update_revision: &update_name,
            pods: &views,
        };
        let steps = plan::plan(&input);
        let current = current_rev.as_ref().zip(Some(current_name.as_str()));
        let update = update_rev.as_ref().zip(Some(update_name.as_str()));
        apply(&ctx, &sts, &steps, current, update).await?;
        repair_identities(&ctx, &sts, &owned).await?;
    }

    if !deleting {
        let mut in_use: HashSet<String> = owned
            .iter()
            .filter_map(|p| p.labels().get(revisions::HASH_LABEL).cloned())
            .collect();
        in_use.insert(current_name.clone());
        in_use.insert(update_name.clone());
        let limit = spec.revision_history_limit.unwrap_or(10);
        revisions::truncate_history(&ctx, &revs, &in_use, limit).await?;
    }

    let revs_for_status = status::Revisions {
        current: &current_name,
        update: &update_name,
        rolling: matches!(strategy(&sts), Strategy::RollingUpdate { .. }),
    };
    let members: Vec<Arc<Pod>> = owned
        .iter()
        .filter(|p| identity::ordinal_of(&set, &p.name_any()).is_some())
        .cloned()
        .collect();
    let computed = status::compute(
        &sts,
        &members,
        &revs_for_status,
        min_ready,
        now,
        unsupported.then_some(UNSUPPORTED_MESSAGE),
    );
    if sts.status.as_ref() != Some(&computed) {
        let api: Api<StatefulSet> = ctx.api(&ns);
        let body = json!({"status": crate::status::clearing_nulls(&computed, &["conditions"])?});
        ignore_not_found(
            api.patch_status(&set, &PatchParams::default(), &Patch::Merge(&body))
                .await,
        )?;
    }
    Ok(crate::replicaset::next_check(
        &owned, min_ready, now, settled,
    ))
}

fn has_unsupported_condition(sts: &StatefulSet) -> bool {
    sts.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == status::UNSUPPORTED_CONDITION))
}

async fn bump_collision_count(ctx: &Context, sts: &StatefulSet) -> kube::Result<()> {
    let next = sts
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0)
        .saturating_add(1);
    let api: Api<StatefulSet> = ctx.api(&sts.namespace().unwrap_or_default());
    let body = json!({"status": {"collisionCount": next}});
    ignore_not_found(
        api.patch_status(
            &sts.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )?;
    Ok(())
}

async fn apply(
    ctx: &Context,
    sts: &StatefulSet,
    steps: &[Step],
    current: Option<(&ControllerRevision, &str)>,
    update: Option<(&ControllerRevision, &str)>,
) -> anyhow::Result<()> {
    let ns = sts.namespace().unwrap_or_default();
    let set = sts.name_any();
    let uid = ownership::uid_of(&sts.metadata);
    let api: Api<Pod> = ctx.api(&ns);
    let about = events::reference(sts);
    let creations = steps.iter().filter_map(|s| match s {
        Step::Create { ordinal, revision } => Some((*ordinal, *revision)),
        Step::Delete(_) => None,
    });
    let creations: Vec<(i32, Revision)> = creations.collect();
    let made = futures::future::join_all(creations.iter().map(|(ordinal, which)| {
        let (rev, rev_name) = match which {
            Revision::Current => current,
            Revision::Update => update,
        }
        .unzip();
        let template = rev
            .and_then(revisions::template_of)
            .or_else(|| sts.spec.as_ref().map(|s| s.template.clone()))
            .unwrap_or_default();
        let pod = identity::new_pod(sts, &template, rev_name.unwrap_or_default(), *ordinal);
        let api = api.clone();
        let about = about.clone();
        let set = set.as_str();
        async move {
            let name = pod.name_any();
            match api.create(&PostParams::default(), &pod).await {
                Ok(_) => {
                    ctx.expectations.created(uid, &name);
                    let msg = format!("create Pod {name} in StatefulSet {set} successful");
                    events::record(
                        ctx,
                        COMPONENT,
                        about,
                        events::NORMAL,
                        "SuccessfulCreate",
                        &msg,
                    )
                    .await;
                    Ok(())
                }
                Err(e) => {
                    let msg = format!("create Pod {name} in StatefulSet {set} failed error: {e}");
                    events::record(ctx, COMPONENT, about, events::WARNING, "FailedCreate", &msg)
                        .await;
                    Err(anyhow::Error::from(e))
                }
            }
        }
    }))
    .await;
    for name in steps.iter().filter_map(|s| match s {
        Step::Delete(n) => Some(n),
        Step::Create { .. } => None,
    }) {
        ctx.expectations.deleted(uid, name);
        ignore_not_found(api.delete(name, &DeleteParams::default()).await)?;
        let msg = format!("delete Pod {name} in StatefulSet {set} successful");
        events::record(
            ctx,
            COMPONENT,
            about.clone(),
            events::NORMAL,
            "SuccessfulDelete",
            &msg,
        )
        .await;
    }
    made.into_iter().collect()
}

/// Puts back identity labels someone removed or changed (the name and index labels are
/// what per-pod Services select on).
async fn repair_identities(
    ctx: &Context,
    sts: &StatefulSet,
    owned: &[Arc<Pod>],
) -> kube::Result<()> {
    let set = sts.name_any();
    let api: Api<Pod> = ctx.api(&sts.namespace().unwrap_or_default());
    for p in owned.iter().filter(|p| podutil::is_active(p)) {
        let Some(ordinal) = identity::ordinal_of(&set, &p.name_any()) else {
            continue;
        };
        let missing = identity::missing_identity(p, &set, ordinal);
        if missing.is_empty() {
            continue;
        }
        let body = json!({"metadata": {"labels": missing}});
        ownership::ignore_lost_race(
            api.patch(&p.name_any(), &PatchParams::default(), &Patch::Merge(&body))
                .await,
        )?;
    }
    Ok(())
}
