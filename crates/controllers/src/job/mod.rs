//! Job: runs pods to `completions` with `parallelism` at a time (NonIndexed or Indexed),
//! retries failures with exponential backoff up to backoffLimit, honours
//! activeDeadlineSeconds, suspend, podFailurePolicy and ttlSecondsAfterFinished, and tracks
//! finished pods with the `batch.kubernetes.io/job-tracking` finalizer so none is counted
//! twice or lost.

mod failure_policy;
mod indexes;
mod orphans;
mod tracking;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::informer::Change;
use crate::ownership::{self, controller_of, controller_ref, ignore_not_found};
use crate::podutil;
use crate::replicaset::{count, slow_start};
use crate::runner::{self, ReconcileResult};

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
pub const INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
const RESYNC: Duration = Duration::from_secs(300);
const BACKOFF_BASE: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(360);

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![pod_triggers(&ctx)];
    tokio::join!(
        runner::run("job", &ctx.jobs, triggers, workers, ctx.clone(), reconcile),
        orphans::run(ctx.clone()),
    );
}

fn pod_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<Job>> {
    runner::map_changes(ctx.pods.subscribe(), |c: &Change<Pod>| {
        let pod = c.object();
        match controller_of(&pod.metadata) {
            Some(r) if r.kind == "Job" => {
                vec![ObjectRef::new(&r.name).within(&pod.namespace().unwrap_or_default())]
            }
            _ => vec![],
        }
    })
}

fn condition_true<'a>(status: &'a JobStatus, t: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t && c.status == "True")
}

fn add_condition(status: &mut JobStatus, t: &str, reason: &str, message: &str, now: DateTime<Utc>) {
    let conds = status.conditions.get_or_insert_with(Vec::new);
    if conds.iter().any(|c| c.type_ == t && c.status == "True") {
        return;
    }
    conds.retain(|c| c.type_ != t);
    conds.push(JobCondition {
        type_: t.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: Some(peapod_apimachinery::timeconv::time(now)),
        last_transition_time: Some(peapod_apimachinery::timeconv::time(now)),
    });
}

fn is_indexed(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) == Some("Indexed")
}

pub fn pod_index(pod: &Pod) -> Option<i32> {
    pod.annotations()
        .get(INDEX_ANNOTATION)
        .and_then(|v| v.parse().ok())
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Context>) -> ReconcileResult {
    let ns = job.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&job.metadata).to_string();
    let Some(spec) = job.spec.as_ref() else {
        return Ok(Action::requeue(RESYNC));
    };
    let now = ctx.clock.now();
    let pods_api: Api<Pod> = ctx.api(&ns);
    let mut pods: Vec<Arc<Pod>> = ctx
        .pods_in(&ns)
        .into_iter()
        .filter(|p| ownership::is_controlled_by(&p.metadata, &uid))
        .collect();
    if let Some(sel) = spec.selector.as_ref() {
        let orphans: Vec<_> = ctx
            .pods_in(&ns)
            .into_iter()
            .filter(|p| {
                controller_of(&p.metadata).is_none()
                    && peapod_apimachinery::selectors::workload_selects(
                        sel,
                        p.metadata.labels.as_ref(),
                    )
            })
            .collect();
        if !orphans.is_empty() && job.metadata.deletion_timestamp.is_none() {
            let adopted =
                ownership::claim(&pods_api, &controller_ref(&*job), false, orphans, |_| true)
                    .await?;
            pods.extend(adopted);
        }
    }
    let mut status = job.status.clone().unwrap_or_default();
    let finished = condition_true(&status, "Complete")
        .or_else(|| condition_true(&status, "Failed"))
        .cloned();

    // Count what finished, then let go of the pods (the finalizer protected them until now).
    let verdicts = tracking::account(&ctx, &job, &pods, &mut status).await?;

    if let Some(done) = finished {
        tracking::release_all(&pods_api, &pods).await?;
        return ttl_after_finished(&ctx, &job, &done, now).await;
    }
    if job.metadata.deletion_timestamp.is_some() {
        tracking::release_all(&pods_api, &pods).await?;
        return Ok(Action::requeue(RESYNC));
    }

    let active: Vec<&Arc<Pod>> = pods.iter().filter(|p| podutil::is_active(p)).collect();
    let suspended = spec.suspend.unwrap_or(false);
    let mut requeue = RESYNC;

    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let failed = status.failed.unwrap_or(0);
    let failure = if verdicts.fail_job {
        Some((
            "PodFailurePolicy",
            "Container failed with an exit code or condition the pod failure policy marks as fatal"
                .to_string(),
        ))
    } else if failed > backoff_limit {
        Some((
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".to_string(),
        ))
    } else if let Some(deadline) = active_deadline(&job, &status) {
        if deadline <= now && !suspended {
            Some((
                "DeadlineExceeded",
                "Job was active longer than specified deadline".to_string(),
            ))
        } else {
            if !suspended {
                requeue = requeue.min(
                    (deadline - now).to_std().unwrap_or_default() + Duration::from_millis(100),
                );
            }
            None
        }
    } else {
        None
    };

    let completions = spec.completions;
    let succeeded = status.succeeded.unwrap_or(0);
    let completed_indexes = indexes::parse(status.completed_indexes.as_deref().unwrap_or(""));
    let success = if is_indexed(&job) {
        completions.is_some_and(|c| count(completed_indexes.len()) >= c)
    } else {
        match completions {
            Some(c) => succeeded >= c,
            None => succeeded > 0,
        }
    };

    if let Some((reason, message)) = failure {
        add_condition(&mut status, "FailureTarget", reason, &message, now);
        delete_pods(&ctx, &pods_api, &uid, &active).await?;
        if active.is_empty() {
            add_condition(&mut status, "Failed", reason, &message, now);
        }
    } else if success {
        add_condition(
            &mut status,
            "SuccessCriteriaMet",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            now,
        );
        delete_pods(&ctx, &pods_api, &uid, &active).await?;
        if active.is_empty() {
            add_condition(
                &mut status,
                "Complete",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            );
            status.completion_time = Some(peapod_apimachinery::timeconv::time(now));
        }
    } else if suspended {
        delete_pods(&ctx, &pods_api, &uid, &active).await?;
        set_suspended(&mut status, true, now);
        status.start_time = None;
    } else {
        set_suspended(&mut status, false, now);
        if status.start_time.is_none() {
            status.start_time = Some(peapod_apimachinery::timeconv::time(now));
            if let Some(ads) = spec.active_deadline_seconds {
                requeue = requeue
                    .min(Duration::from_secs(ads.max(0) as u64) + Duration::from_millis(100));
            }
        }
        if ctx.pods_settled(&ns, &uid) {
            let wait = retry_delay(&pods, status.failed.unwrap_or(0), now);
            if wait.is_zero() {
                manage(&ctx, &job, &active, &completed_indexes, succeeded).await?;
            } else {
                requeue = requeue.min(wait);
            }
        } else {
            requeue = requeue.min(Duration::from_secs(2));
        }
    }

    let active_now = pods.iter().filter(|p| podutil::is_active(p)).count();
    status.active = Some(count(active_now));
    status.ready = Some(count(
        pods.iter()
            .filter(|p| podutil::is_active(p) && podutil::is_ready(p))
            .count(),
    ));
    status.terminating = Some(count(
        pods.iter().filter(|p| podutil::is_terminating(p)).count(),
    ));
    write_status(&ctx, &job, status).await?;
    Ok(Action::requeue(requeue))
}

fn set_suspended(status: &mut JobStatus, on: bool, now: DateTime<Utc>) {
    let conds = status.conditions.get_or_insert_with(Vec::new);
    let current = conds
        .iter()
        .find(|c| c.type_ == "Suspended")
        .map(|c| c.status == "True");
    if current == Some(on) || (current.is_none() && !on) {
        return;
    }
    conds.retain(|c| c.type_ != "Suspended");
    conds.push(JobCondition {
        type_: "Suspended".into(),
        status: if on { "True" } else { "False" }.into(),
        reason: Some(if on { "JobSuspended" } else { "JobResumed" }.into()),
        message: Some(if on { "Job suspended" } else { "Job resumed" }.into()),
        last_probe_time: Some(peapod_apimachinery::timeconv::time(now)),
        last_transition_time: Some(peapod_apimachinery::timeconv::time(now)),
    });
}

fn active_deadline(job: &Job, status: &JobStatus) -> Option<DateTime<Utc>> {
    let ads = job.spec.as_ref()?.active_deadline_seconds?;
    Some(
        peapod_apimachinery::timeconv::to_chrono(&status.start_time.as_ref()?.0)
            + chrono::Duration::seconds(ads),
    )
}

/// Exponential backoff after failures: 10 s, 20 s, 40 s … at most 6 min, counted from the
/// last failed pod's end.
fn retry_delay(pods: &[Arc<Pod>], failed: i32, now: DateTime<Utc>) -> Duration {
    if failed <= 0 {
        return Duration::ZERO;
    }
    let last_failure = pods
        .iter()
        .filter(|p| podutil::phase(p) == "Failed")
        .filter_map(|p| tracking::finished_at(p))
        .max();
    let Some(at) = last_failure else {
        return Duration::ZERO;
    };
    let exp = (failed - 1).clamp(0, 10) as u32;
    let delay = (BACKOFF_BASE * 2u32.pow(exp)).min(BACKOFF_MAX);
    let due = at + chrono::Duration::from_std(delay).unwrap_or_default();
    if due <= now {
        Duration::ZERO
    } else {
        (due - now).to_std().unwrap_or_default()
    }
}

async fn delete_pods(
    ctx: &Context,
    api: &Api<Pod>,
    owner_uid: &str,
    pods: &[&Arc<Pod>],
) -> kube::Result<()> {
    for p in pods {
        ctx.expectations.deleted(owner_uid, &p.name_any());
        ignore_not_found(api.delete(&p.name_any(), &DeleteParams::default()).await)?;
    }
    Ok(())
}

/// Creates (or deletes) pods so that the right number — or the right indexes — run.
async fn manage(
    ctx: &Context,
    job: &Job,
    active: &[&Arc<Pod>],
    completed: &BTreeSet<i32>,
    succeeded: i32,
) -> anyhow::Result<()> {
    let Some(spec) = job.spec.as_ref() else {
        return Ok(());
    };
    let ns = job.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&job.metadata).to_string();
    let api: Api<Pod> = ctx.api(&ns);
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let want_indexes: Vec<Option<i32>> = if is_indexed(job) {
        let total = spec.completions.unwrap_or(0).max(0);
        let running: BTreeSet<i32> = active.iter().filter_map(|p| pod_index(p)).collect();
        let room = (parallelism - count(active.len())).max(0) as usize;
        (0..total)
            .filter(|i| !completed.contains(i) && !running.contains(i))
            .take(room)
            .map(Some)
            .collect()
    } else {
        let want_active = match spec.completions {
            Some(c) => parallelism.min((c - succeeded).max(0)),
            None if succeeded > 0 => 0,
            None => parallelism,
        };
        let have = count(active.len());
        if have > want_active {
            let mut extra: Vec<&Arc<Pod>> = active.to_vec();
            extra.sort_by(|a, b| podutil::cmp_deletion_priority(a, b));
            extra.truncate((have - want_active) as usize);
            return Ok(delete_pods(ctx, &api, &uid, &extra).await?);
        }
        vec![None; (want_active - have).max(0) as usize]
    };
    let owner = controller_ref(job);
    slow_start(want_indexes.len(), |i| {
        let pod = job_pod(job, &ns, owner.clone(), want_indexes[i]);
        let api = api.clone();
        let uid = uid.clone();
        async move {
            let created = api.create(&PostParams::default(), &pod).await?;
            ctx.expectations.created(&uid, &created.name_any());
            Ok(())
        }
    })
    .await?;
    Ok(())
}

fn job_pod(
    job: &Job,
    ns: &str,
    owner: k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
    index: Option<i32>,
) -> Pod {
    let name = job.name_any();
    let uid = ownership::uid_of(&job.metadata).to_string();
    let mut labels = BTreeMap::new();
    labels.insert(
        "batch.kubernetes.io/controller-uid".to_string(),
        uid.clone(),
    );
    labels.insert("controller-uid".to_string(), uid);
    labels.insert("batch.kubernetes.io/job-name".to_string(), name.clone());
    labels.insert("job-name".to_string(), name.clone());
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let prefix = match index {
        Some(i) => podutil::generate_name_prefix(&format!("{name}-{i}")),
        None => podutil::generate_name_prefix(&name),
    };
    if let Some(i) = index {
        labels.insert(INDEX_ANNOTATION.to_string(), i.to_string());
    }
    let mut pod = podutil::pod_from_template(&template, ns, owner, None, Some(prefix), &labels);
    pod.metadata
        .finalizers
        .get_or_insert_with(Vec::new)
        .push(TRACKING_FINALIZER.into());
    if let Some(i) = index {
        pod.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(INDEX_ANNOTATION.into(), i.to_string());
        if let Some(spec) = pod.spec.as_mut() {
            spec.hostname.get_or_insert_with(|| format!("{name}-{i}"));
            let env = EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value: None,
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        api_version: None,
                        field_path: format!("metadata.annotations['{INDEX_ANNOTATION}']"),
                    }),
                    ..Default::default()
                }),
            };
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                c.env.get_or_insert_with(Vec::new).push(env.clone());
            }
        }
    }
    pod
}

async fn write_status(ctx: &Context, job: &Job, status: JobStatus) -> anyhow::Result<()> {
    if job.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<Job> = ctx.api(&job.namespace().unwrap_or_default());
    let body = json!({"status": crate::status::clearing_nulls(&status, &["startTime", "completionTime"])?});
    ignore_not_found(
        api.patch_status(
            &job.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )?;
    Ok(())
}

/// Deletes a finished job (and, in the foreground, its pods) once its TTL has passed.
async fn ttl_after_finished(
    ctx: &Context,
    job: &Job,
    done: &JobCondition,
    now: DateTime<Utc>,
) -> ReconcileResult {
    let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) else {
        return Ok(Action::requeue(RESYNC));
    };
    if job.metadata.deletion_timestamp.is_some() {
        return Ok(Action::requeue(RESYNC));
    }
    let since = done
        .last_transition_time
        .as_ref()
        .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
        .unwrap_or(now);
    let due = since + chrono::Duration::seconds(i64::from(ttl.max(0)));
    if due > now {
        return Ok(Action::requeue(
            (due - now).to_std().unwrap_or_default() + Duration::from_millis(100),
        ));
    }
    let api: Api<Job> = ctx.api(&job.namespace().unwrap_or_default());
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(kube::api::Preconditions {
            uid: job.metadata.uid.clone(),
            resource_version: None,
        }),
        ..Default::default()
    };
    ownership::ignore_lost_race(api.delete(&job.name_any(), &dp).await)?;
    Ok(Action::requeue(RESYNC))
}
