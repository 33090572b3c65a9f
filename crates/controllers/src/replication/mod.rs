//! ReplicationController: the ReplicaSet loop ([`crate::replicaset::sync`]) run on each
//! controller converted to a ReplicaSet, with the pods' controller reference naming the
//! ReplicationController and the status converted back.

mod conversion;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::ReplicationController;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::ownership::{controller_ref, ignore_not_found};
use crate::replicaset;
use crate::runner::{self, ReconcileResult};
use peapod_apimachinery::selectors;

const RESYNC: Duration = Duration::from_secs(300);

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![pod_triggers(&ctx)];
    runner::run(
        "replicationcontroller",
        &ctx.replicationcontrollers,
        triggers,
        workers,
        ctx.clone(),
        reconcile,
    )
    .await;
}

fn pod_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<ReplicationController>> {
    runner::owned_pod_triggers(
        ctx.pods.subscribe(),
        ctx.replicationcontrollers.store(),
        "ReplicationController",
        |rc, labels| {
            rc.spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .is_some_and(|s| selectors::equality_selector_selects(s, labels))
        },
    )
}

async fn reconcile(rc: Arc<ReplicationController>, ctx: Arc<Context>) -> ReconcileResult {
    let rs = conversion::to_replica_set(&rc);
    let Some(synced) = replicaset::sync(&ctx, &rs, controller_ref(&*rc)).await? else {
        return Ok(Action::requeue(RESYNC));
    };
    let status = conversion::from_replica_set_status(&synced.status);
    if rc.status.as_ref() != Some(&status) {
        let api: Api<ReplicationController> = ctx.api(&rc.namespace().unwrap_or_default());
        let body = json!({"status": crate::status::clearing_nulls(&status, &["conditions"])?});
        ignore_not_found(
            api.patch_status(
                &rc.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await,
        )?;
    }
    synced.finish()
}
