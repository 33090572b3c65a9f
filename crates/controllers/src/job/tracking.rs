//! Counting finished pods exactly once. A job's pods carry the job-tracking finalizer, so
//! they cannot vanish uncounted. A finished pod's uid first goes into
//! status.uncountedTerminatedPods (persisted), then the finalizer is removed, then the uid
//! moves into the succeeded/failed counters — a crash between steps repeats no count.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{Job, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;

use super::failure_policy::{judge, Verdict};
use super::{indexes, is_indexed, pod_index, TRACKING_FINALIZER};
use crate::context::Context;
use crate::ownership::{ignore_lost_race, ignore_not_found};
use crate::podutil;

pub struct Verdicts {
    pub fail_job: bool,
}

pub(super) fn has_finalizer(p: &Pod) -> bool {
    p.finalizers().iter().any(|f| f == TRACKING_FINALIZER)
}

/// When the pod's containers finished (or it was last seen changing).
pub fn finished_at(p: &Pod) -> Option<DateTime<Utc>> {
    let s = p.status.as_ref()?;
    let from_containers = s
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| {
            c.state
                .as_ref()?
                .terminated
                .as_ref()?
                .finished_at
                .as_ref()
                .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
        })
        .max();
    from_containers.or_else(|| {
        s.conditions
            .iter()
            .flatten()
            .filter_map(|c| {
                c.last_transition_time
                    .as_ref()
                    .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
            })
            .max()
    })
}

pub async fn account(
    ctx: &Context,
    job: &Job,
    pods: &[Arc<Pod>],
    status: &mut JobStatus,
) -> anyhow::Result<Verdicts> {
    let policy = job
        .spec
        .as_ref()
        .and_then(|s| s.pod_failure_policy.as_ref());
    let mut verdicts = Verdicts { fail_job: false };
    let api: Api<Pod> = ctx.api(&job.namespace().unwrap_or_default());
    let mut uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    let mut succeeded_uids: BTreeSet<String> = uncounted
        .succeeded
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut failed_uids: BTreeSet<String> = uncounted
        .failed
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut completed = indexes::parse(status.completed_indexes.as_deref().unwrap_or(""));
    let mut release = Vec::new();
    let mut recorded = false;
    for p in pods.iter().filter(|p| has_finalizer(p)) {
        let uid = p.metadata.uid.clone().unwrap_or_default();
        if succeeded_uids.contains(&uid) || failed_uids.contains(&uid) {
            release.push(p.clone());
            continue;
        }
        match podutil::phase(p) {
            "Succeeded" => {
                succeeded_uids.insert(uid);
                if is_indexed(job) {
                    completed.extend(pod_index(p));
                }
                recorded = true;
                release.push(p.clone());
            }
            "Failed" => match judge(policy, p) {
                Verdict::Ignore => release.push(p.clone()),
                v => {
                    verdicts.fail_job |= v == Verdict::FailJob;
                    failed_uids.insert(uid);
                    recorded = true;
                    release.push(p.clone());
                }
            },
            // Deleted before finishing: nothing to count, nothing to hold.
            _ if p.metadata.deletion_timestamp.is_some() => release.push(p.clone()),
            _ => {}
        }
    }
    uncounted.succeeded = Some(succeeded_uids.iter().cloned().collect());
    uncounted.failed = Some(failed_uids.iter().cloned().collect());
    if recorded {
        let completed_text = if is_indexed(job) {
            Some(indexes::format(&completed))
        } else {
            status.completed_indexes.clone()
        };
        let body = json!({"status": {"uncountedTerminatedPods": uncounted, "completedIndexes": completed_text}});
        let jobs: Api<Job> = ctx.api(&job.namespace().unwrap_or_default());
        jobs.patch_status(
            &job.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await?;
        status.completed_indexes = completed_text;
    }
    let mut released = BTreeSet::new();
    for p in &release {
        if remove_finalizer(&api, p).await? {
            released.insert(p.metadata.uid.clone().unwrap_or_default());
        }
    }
    // Move counted uids whose pods are released (or gone) into the counters.
    let still_held = |uid: &String| {
        pods.iter().any(|p| {
            p.metadata.uid.as_ref() == Some(uid) && has_finalizer(p) && !released.contains(uid)
        })
    };
    let (done_s, keep_s): (Vec<String>, Vec<String>) =
        succeeded_uids.into_iter().partition(|u| !still_held(u));
    let (done_f, keep_f): (Vec<String>, Vec<String>) =
        failed_uids.into_iter().partition(|u| !still_held(u));
    status.succeeded = Some(status.succeeded.unwrap_or(0) + crate::replicaset::count(done_s.len()));
    status.failed = Some(status.failed.unwrap_or(0) + crate::replicaset::count(done_f.len()));
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
        succeeded: Some(keep_s),
        failed: Some(keep_f),
    });
    Ok(verdicts)
}

/// Returns whether the pod no longer holds the finalizer.
pub(super) async fn remove_finalizer(api: &Api<Pod>, p: &Pod) -> kube::Result<bool> {
    let rest: Vec<&String> = p
        .finalizers()
        .iter()
        .filter(|f| *f != TRACKING_FINALIZER)
        .collect();
    let body =
        json!({"metadata": {"finalizers": rest, "resourceVersion": p.metadata.resource_version}});
    match ignore_lost_race(
        api.patch(&p.name_any(), &PatchParams::default(), &Patch::Merge(&body))
            .await,
    ) {
        Ok(Some(_)) => Ok(true),
        // Gone already is released; a conflict is retried on the next event.
        Ok(None) => Ok(api
            .get_opt(&p.name_any())
            .await?
            .is_none_or(|n| !has_finalizer(&n))),
        Err(e) => Err(e),
    }
}

/// Drops the finalizer from every pod of a finished or deleted job.
pub async fn release_all(api: &Api<Pod>, pods: &[Arc<Pod>]) -> kube::Result<()> {
    for p in pods.iter().filter(|p| has_finalizer(p)) {
        ignore_not_found(remove_finalizer(api, p).await)?;
    }
    Ok(())
}
