//! Pods that hold the job-tracking finalizer but whose Job is gone (deleted with background
//! propagation, replaced by a Job of the same name) or that no Job controls: nothing would
//! ever count them, so the finalizer is dropped, as upstream's orphan handling does. Without
//! this, `kubectl delete job X` leaves its pods Terminating forever.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use super::tracking::{has_finalizer, remove_finalizer};
use crate::context::Context;
use crate::informer::Change;
use crate::ownership::{controller_of, ignore_not_found};

/// Whether the pod's tracking finalizer protects nothing any more, judged from the cache.
fn orphaned_in_cache(ctx: &Context, pod: &Pod) -> bool {
    let Some(owner) = controller_of(&pod.metadata) else {
        return true;
    };
    // Another kind's pod (or another API version's Job) is not ours to touch.
    if owner.kind != "Job" || owner.api_version != "batch/v1" {
        return false;
    }
    let ns = pod.namespace().unwrap_or_default();
    match ctx
        .jobs
        .store()
        .get(&ObjectRef::new(&owner.name).within(&ns))
    {
        Some(job) => job.metadata.uid.as_deref() != Some(owner.uid.as_str()),
        None => true,
    }
}

/// Confirms with the API what the cache suggests (the Job informer may lag the pods').
async fn job_gone(ctx: &Context, pod: &Pod) -> kube::Result<bool> {
    let Some(owner) = controller_of(&pod.metadata) else {
        return Ok(true);
    };
    let jobs: Api<Job> = ctx.api(&pod.namespace().unwrap_or_default());
    Ok(match jobs.get_opt(&owner.name).await? {
        Some(job) => job.metadata.uid.as_deref() != Some(owner.uid.as_str()),
        None => true,
    })
}

pub async fn run(ctx: Arc<Context>) {
    let mut changes = ctx.pods.subscribe();
    while let Some(change) = changes.recv().await {
        let Change::Applied(pod) = change else {
            continue;
        };
        if !has_finalizer(&pod) || !orphaned_in_cache(&ctx, &pod) {
            continue;
        }
        let api: Api<Pod> = ctx.api(&pod.namespace().unwrap_or_default());
        let released = async {
            if job_gone(&ctx, &pod).await? {
                ignore_not_found(remove_finalizer(&api, &pod).await)?;
            }
            Ok::<(), kube::Error>(())
        };
        if let Err(e) = released.await {
            // The pod's next change brings it back here.
            tracing::debug!(pod = %pod.name_any(), error = %e, "releasing an orphan job pod");
        }
    }
}
