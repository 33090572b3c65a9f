//! CronJob: creates a Job named `<cronjob>-<scheduled minute>` for each scheduled time
//! (cron syntax, timeZone), honouring concurrencyPolicy, startingDeadlineSeconds, suspend
//! and the successful/failed history limits.

pub mod schedule;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::stream::BoxStream;
use futures::StreamExt;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::informer::Change;
use crate::ownership::{self, controller_of, controller_ref, ignore_lost_race, ignore_not_found};
use crate::runner::{self, ReconcileResult};
use peapod_apimachinery::timeconv::{time, to_chrono};
use schedule::Schedule;

pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
const RESYNC: Duration = Duration::from_secs(300);

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![job_triggers(&ctx), clock_triggers(&ctx)];
    runner::run(
        "cronjob",
        &ctx.cronjobs,
        triggers,
        workers,
        ctx.clone(),
        reconcile,
    )
    .await;
}

fn job_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<CronJob>> {
    runner::map_changes(ctx.jobs.subscribe(), |c: &Change<Job>| {
        let job = c.object();
        match controller_of(&job.metadata) {
            Some(r) if r.kind == "CronJob" => {
                vec![ObjectRef::new(&r.name).within(&job.namespace().unwrap_or_default())]
            }
            _ => vec![],
        }
    })
}

/// A clock jump (tests) makes every CronJob look at its schedule again.
fn clock_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<CronJob>> {
    let store = ctx.cronjobs.store();
    futures::stream::unfold(ctx.clock.subscribe(), |mut rx| async move {
        rx.changed().await.ok().map(|_| ((), rx))
    })
    .flat_map(move |_| {
        futures::stream::iter(
            store
                .state()
                .iter()
                .map(|c| ObjectRef::from_obj(&**c))
                .collect::<Vec<_>>(),
        )
    })
    .boxed()
}

fn finished(job: &Job) -> Option<(&'static str, Option<DateTime<Utc>>)> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    for c in conds.iter().filter(|c| c.status == "True") {
        let at = c.last_transition_time.as_ref().map(|t| to_chrono(&t.0));
        match c.type_.as_str() {
            "Complete" => return Some(("Complete", at)),
            "Failed" => return Some(("Failed", at)),
            _ => {}
        }
    }
    None
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        ..Default::default()
    }
}

/// Job name for a scheduled time: the cronjob's name and the time in minutes since the epoch.
pub fn job_name(cronjob: &str, scheduled: DateTime<Utc>) -> String {
    format!("{cronjob}-{}", scheduled.timestamp() / 60)
}

async fn reconcile(cj: Arc<CronJob>, ctx: Arc<Context>) -> ReconcileResult {
    let ns = cj.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&cj.metadata).to_string();
    let Some(spec) = cj.spec.as_ref() else {
        return Ok(Action::requeue(RESYNC));
    };
    let jobs_api: Api<Job> = ctx.api(&ns);
    let mut jobs: Vec<Arc<Job>> = ctx
        .jobs
        .store()
        .state()
        .into_iter()
        .filter(|j| {
            j.namespace().as_deref() == Some(&ns) && ownership::is_controlled_by(&j.metadata, &uid)
        })
        .collect();
    jobs.sort_by_key(|j| {
        j.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| to_chrono(&t.0))
    });

    let mut status = cj.status.clone().unwrap_or_default();
    let running: Vec<&Arc<Job>> = jobs
        .iter()
        .filter(|j| finished(j).is_none() && j.metadata.deletion_timestamp.is_none())
        .collect();
    status.active = Some(running.iter().map(|j| job_ref(j)).collect());
    let last_success = jobs.iter().filter_map(|j| match finished(j) {
        Some(("Complete", at)) => at,
        _ => None,
    });
    if let Some(t) = last_success.max() {
        status.last_successful_time = Some(time(t));
    }
    cleanup_history(
        &jobs_api,
        spec.successful_jobs_history_limit.unwrap_or(3),
        &jobs,
        "Complete",
    )
    .await?;
    cleanup_history(
        &jobs_api,
        spec.failed_jobs_history_limit.unwrap_or(1),
        &jobs,
        "Failed",
    )
    .await?;

    let schedule = match Schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(cronjob = %cj.name_any(), namespace = %ns, error = %e, "unparseable schedule");
            write_status(&ctx, &cj, &status).await?;
            return Ok(Action::requeue(RESYNC));
        }
    };
    let tz: Tz = match spec.time_zone.as_deref() {
        None | Some("") => Tz::UTC,
        Some(name) => match name.parse() {
            Ok(tz) => tz,
            Err(_) => {
                tracing::warn!(cronjob = %cj.name_any(), time_zone = name, "unknown time zone");
                write_status(&ctx, &cj, &status).await?;
                return Ok(Action::requeue(RESYNC));
            }
        },
    };
    if cj.metadata.deletion_timestamp.is_some() || spec.suspend.unwrap_or(false) {
        write_status(&ctx, &cj, &status).await?;
        return Ok(Action::requeue(RESYNC));
    }

    let now = ctx.clock.now();
    let created = cj
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| to_chrono(&t.0))
        .unwrap_or(now);
    let mut earliest = status
        .last_schedule_time
        .as_ref()
        .map(|t| to_chrono(&t.0))
        .unwrap_or(created);
    if let Some(sds) = spec.starting_deadline_seconds {
        earliest = earliest.max(now - chrono::Duration::seconds(sds));
    }
    let (scheduled, _missed) = schedule.most_recent(earliest, now, tz);
    let next_wait = schedule
        .next_after(now, tz)
        .map(|n| (n - now).to_std().unwrap_or_default() + Duration::from_millis(100))
        .unwrap_or(RESYNC);

    if let Some(at) = scheduled {
        let too_late = spec
            .starting_deadline_seconds
            .is_some_and(|sds| at + chrono::Duration::seconds(sds) < now);
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        if too_late {
            tracing::info!(cronjob = %cj.name_any(), scheduled = %at, "missed the starting deadline");
        } else if policy == "Forbid" && !running.is_empty() {
            // Wait: the run is not lost, it happens once the active one finishes.
            write_status(&ctx, &cj, &status).await?;
            return Ok(Action::requeue(next_wait));
        } else {
            if policy == "Replace" {
                for j in &running {
                    let dp = DeleteParams {
                        propagation_policy: Some(PropagationPolicy::Background),
                        ..Default::default()
                    };
                    ignore_not_found(jobs_api.delete(&j.name_any(), &dp).await)?;
                }
                status.active = Some(vec![]);
            }
            let job = new_job(&cj, at);
            match jobs_api.create(&PostParams::default(), &job).await {
                Ok(created) => status
                    .active
                    .get_or_insert_with(Vec::new)
                    .push(job_ref(&created)),
                // Already created for this time (an earlier attempt got this far).
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
            status.last_schedule_time = Some(time(at));
        }
    }
    write_status(&ctx, &cj, &status).await?;
    Ok(Action::requeue(next_wait.min(RESYNC)))
}

fn new_job(cj: &CronJob, scheduled: DateTime<Utc>) -> Job {
    let tpl = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let tmeta = tpl.metadata.unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = tmeta.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP.into(),
        scheduled.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&cj.name_any(), scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: tmeta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(cj)]),
            ..Default::default()
        },
        spec: tpl.spec,
        status: None,
    }
}

/// Deletes the oldest finished jobs of one outcome beyond `limit`.
async fn cleanup_history(
    api: &Api<Job>,
    limit: i32,
    jobs: &[Arc<Job>],
    outcome: &str,
) -> kube::Result<()> {
    let mut done: Vec<(Option<DateTime<Utc>>, &Arc<Job>)> = jobs
        .iter()
        .filter(|j| j.metadata.deletion_timestamp.is_none())
        .filter_map(|j| {
            finished(j)
                .filter(|(o, _)| *o == outcome)
                .map(|(_, at)| (at, j))
        })
        .collect();
    let limit = limit.max(0) as usize;
    if done.len() <= limit {
        return Ok(());
    }
    done.sort_by_key(|(at, _)| *at);
    let excess = done.len() - limit;
    for (_, j) in done.into_iter().take(excess) {
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        ignore_lost_race(api.delete(&j.name_any(), &dp).await)?;
    }
    Ok(())
}

async fn write_status(ctx: &Context, cj: &CronJob, status: &CronJobStatus) -> anyhow::Result<()> {
    if cj.status.as_ref() == Some(status) {
        return Ok(());
    }
    let api: Api<CronJob> = ctx.api(&cj.namespace().unwrap_or_default());
    let body = json!({"status": status});
    ignore_not_found(
        api.patch_status(
            &cj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await,
    )?;
    Ok(())
}
