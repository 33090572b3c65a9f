mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, PostParams};

#[tokio::test]
async fn creates_a_job_each_scheduled_minute() -> anyhow::Result<()> {
    let env = start().await?;
    let mut t = template("tick", "busybox");
    if let Some(s) = t.spec.as_mut() {
        s.restart_policy = Some("OnFailure".into());
    }
    let cj = CronJob {
        metadata: ObjectMeta {
            name: Some("tick".into()),
            ..Default::default()
        },
        spec: Some(CronJobSpec {
            schedule: "* * * * *".into(),
            concurrency_policy: Some("Allow".into()),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    template: t,
                    backoff_limit: Some(1),
                    ..Default::default()
                }),
            },
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(1),
            suspend: Some(false),
            ..Default::default()
        }),
        status: None,
    };
    // No real minute boundary may pass between creating the CronJob (its creation time is
    // the server's, in whole seconds) and checking that nothing ran yet: close to one, wait
    // it out.
    let into_minute = chrono::Utc::now().timestamp().rem_euclid(60) as u64;
    if into_minute >= 55 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
    let api: Api<CronJob> = Api::namespaced(env.client.clone(), "default");
    api.create(&PostParams::default(), &cj).await?;
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "default");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        jobs.list(&ListParams::default()).await?.items.is_empty(),
        "nothing before the first scheduled minute"
    );
    // Jump past the next minute boundary instead of waiting for it.
    env.clock.advance(Duration::from_secs(61));
    let job = wait_for("scheduled job", 20, || async {
        Ok(jobs
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .next())
    })
    .await?;
    let name = job.metadata.name.clone().unwrap_or_default();
    let minutes: i64 = name
        .strip_prefix("tick-")
        .and_then(|m| m.parse().ok())
        .expect("tick-<minutes>");
    let scheduled = job
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("batch.kubernetes.io/cronjob-scheduled-timestamp"))
        .cloned()
        .unwrap_or_default();
    let at = chrono::DateTime::parse_from_rfc3339(&scheduled)?;
    assert_eq!(at.timestamp() / 60, minutes);
    let owner = job.metadata.owner_references.clone().unwrap_or_default();
    assert!(owner
        .iter()
        .any(|r| r.kind == "CronJob" && r.name == "tick" && r.controller == Some(true)));
    let status = wait_for("cronjob status", 20, || async {
        let c = api.get("tick").await?;
        Ok(c.status.filter(|s| {
            s.last_schedule_time.is_some() && s.active.as_ref().is_some_and(|a| a.len() == 1)
        }))
    })
    .await?;
    assert_eq!(
        status.active.unwrap_or_default()[0].name.as_deref(),
        Some(name.as_str())
    );
    Ok(())
}
