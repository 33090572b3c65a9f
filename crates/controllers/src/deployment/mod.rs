//! Deployment: rolls pod templates out through ReplicaSets (RollingUpdate or Recreate),
//! keeps revision history, handles scaling, pausing and the progress deadline.

mod progress;
mod rollout;
mod sets;
pub(crate) mod util;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::informer::Change;
use crate::ownership::{controller_of, ignore_not_found};
use crate::runner::{self, ReconcileResult};
use peapod_apimachinery::selectors;
use util::*;

const RESYNC: Duration = Duration::from_secs(300);

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![rs_triggers(&ctx), pod_triggers(&ctx)];
    runner::run(
        "deployment",
        &ctx.deployments,
        triggers,
        workers,
        ctx.clone(),
        reconcile,
    )
    .await;
}

fn rs_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<Deployment>> {
    let deployments = ctx.deployments.store();
    runner::map_changes(
        ctx.replicasets.subscribe(),
        move |c: &Change<ReplicaSet>| {
            let rs = c.object();
            let ns = rs.namespace().unwrap_or_default();
            if let Some(r) = controller_of(&rs.metadata) {
                return if r.kind == "Deployment" {
                    vec![ObjectRef::new(&r.name).within(&ns)]
                } else {
                    vec![]
                };
            }
            deployments
                .state()
                .iter()
                .filter(|d| d.namespace().as_deref() == Some(&ns))
                .filter(|d| {
                    d.spec.as_ref().is_some_and(|s| {
                        selectors::workload_selects(&s.selector, rs.metadata.labels.as_ref())
                    })
                })
                .map(|d| ObjectRef::from_obj(&**d))
                .collect()
        },
    )
}

/// Recreate waits for old pods to be gone: their deletion concerns the deployment.
fn pod_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<Deployment>> {
    let replicasets = ctx.replicasets.store();
    runner::map_changes(ctx.pods.subscribe(), move |c: &Change<Pod>| {
        if !matches!(c, Change::Deleted(_)) {
            return vec![];
        }
        let pod = c.object();
        let ns = pod.namespace().unwrap_or_default();
        let Some(r) = controller_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet") else {
            return vec![];
        };
        let Some(rs) = replicasets.get(&ObjectRef::new(&r.name).within(&ns)) else {
            return vec![];
        };
        match controller_of(&rs.metadata) {
            Some(d) if d.kind == "Deployment" => vec![ObjectRef::new(&d.name).within(&ns)],
            _ => vec![],
        }
    })
}

async fn reconcile(d: Arc<Deployment>, ctx: Arc<Context>) -> ReconcileResult {
    let owned = sets::claim_replicasets(&ctx, &d).await?;
    let now = ctx.clock.now();
    if d.metadata.deletion_timestamp.is_some() {
        let sets = sets::get_all(&ctx, &d, owned, false).await?;
        write_status(&ctx, &d, &sets, now, false).await?;
        return Ok(Action::requeue(RESYNC));
    }
    if let Err(e) = fenceposts(&d) {
        return Err(anyhow::anyhow!("invalid rolling update parameters: {e}").into());
    }
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let was_paused = d
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Progressing"))
        .is_some_and(|c| c.reason.as_deref() == Some("DeploymentPaused"));
    let resumed = !paused && was_paused;

    let scaling = owned.iter().any(|rs| {
        rs_replicas(rs) > 0
            && rs
                .annotations()
                .get(DESIRED_REPLICAS)
                .is_some_and(|v| v.parse::<i32>().ok() != Some(replicas(&d)))
    });
    if paused || scaling {
        let mut sets = sets::get_all(&ctx, &d, owned, false).await?;
        rollout::scale(&ctx, &d, &mut sets).await?;
        if paused {
            sets::cleanup(&ctx, &d, &sets.old).await?;
        }
        return write_status(&ctx, &d, &sets, now, resumed).await;
    }

    let mut sets = if is_recreate(&d) {
        let mut sets = sets::get_all(&ctx, &d, owned, false).await?;
        if rollout::recreate_scale_down(&ctx, &d, &mut sets).await? {
            return write_status(&ctx, &d, &sets, now, resumed).await;
        }
        if sets.new.is_none() {
            let owned = sets.old.clone();
            sets = sets::get_all(&ctx, &d, owned, true).await?;
        }
        rollout::recreate_scale_up(&ctx, &d, &mut sets).await?;
        sets
    } else {
        let mut sets = sets::get_all(&ctx, &d, owned, true).await?;
        rollout::rolling(&ctx, &d, &mut sets).await?;
        sets
    };
    let complete = sets.new.as_ref().is_some_and(|rs| {
        let s = rs.status.clone().unwrap_or_default();
        rs_replicas(rs) == replicas(&d) && s.available_replicas.unwrap_or(0) == replicas(&d)
    }) && sets.old.iter().all(|rs| rs_replicas(rs) == 0);
    if complete {
        sets::cleanup(&ctx, &d, &sets.old).await?;
    }
    sets.old
        .retain(|rs| rs.metadata.deletion_timestamp.is_none());
    write_status(&ctx, &d, &sets, now, resumed).await
}

async fn write_status(
    ctx: &Context,
    d: &Deployment,
    sets: &sets::Sets,
    now: chrono::DateTime<chrono::Utc>,
    resumed: bool,
) -> ReconcileResult {
    let computed = progress::compute(d, sets, now, resumed);
    if progress::differs(d.status.as_ref(), &computed.status) {
        let api: Api<Deployment> = ctx.api(&d.namespace().unwrap_or_default());
        let body = json!({"status": crate::status::clearing_nulls(&computed.status, &[])?});
        ignore_not_found(
            api.patch_status(&d.name_any(), &PatchParams::default(), &Patch::Merge(&body))
                .await,
        )?;
    }
    let wait = computed
        .deadline
        .map(|at| (at - now).to_std().unwrap_or_default() + Duration::from_millis(100))
        .unwrap_or(RESYNC)
        .min(RESYNC);
    Ok(Action::requeue(wait))
}
