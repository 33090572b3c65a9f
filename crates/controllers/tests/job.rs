mod common;

use common::*;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};

fn job(name: &str, completions: i32, parallelism: i32, backoff: i32, indexed: bool) -> Job {
    let mut t = template(name, "busybox");
    if let Some(s) = t.spec.as_mut() {
        s.restart_policy = Some("Never".into());
    }
    Job {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(JobSpec {
            completions: Some(completions),
            parallelism: Some(parallelism),
            backoff_limit: Some(backoff),
            completion_mode: Some(if indexed { "Indexed" } else { "NonIndexed" }.into()),
            template: t,
            ..Default::default()
        }),
        status: None,
    }
}

fn condition(j: &Job, t: &str) -> bool {
    j.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == t && c.status == "True"))
}

/// Finishes every running pod of the job with `exit_code`, returns the finished names.
async fn finish_running(env: &Env, sel: &str, exit_code: i32) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    for p in live_pods(&env.client, "default", sel).await? {
        let phase = p
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase != "Succeeded" && phase != "Failed" {
            mark_finished(&env.client, "default", &name(&p), exit_code).await?;
            done.push(name(&p));
        }
    }
    Ok(done)
}

#[tokio::test]
async fn completes_after_enough_successes_with_parallelism() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<Job> = Api::namespaced(env.client.clone(), "default");
    api.create(&PostParams::default(), &job("work", 3, 2, 6, false))
        .await?;
    let done = wait_for("job complete", 30, || async {
        let pods = live_pods(&env.client, "default", "app=work").await?;
        let running = pods
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .is_none_or(|ph| ph == "Pending" || ph == "Running")
            })
            .count();
        assert!(running <= 2, "parallelism exceeded: {running}");
        for p in &pods {
            assert!(p
                .metadata
                .finalizers
                .clone()
                .unwrap_or_default()
                .iter()
                .all(|f| f == "batch.kubernetes.io/job-tracking"));
        }
        finish_running(&env, "app=work", 0).await?;
        let j = api.get("work").await?;
        Ok(condition(&j, "Complete").then_some(j))
    })
    .await?;
    let s = done.status.clone().unwrap_or_default();
    assert_eq!(s.succeeded, Some(3));
    assert!(condition(&done, "SuccessCriteriaMet"));
    assert!(s.completion_time.is_some() && s.start_time.is_some());
    // Finished pods were released from the tracking finalizer.
    let pods = live_pods(&env.client, "default", "app=work").await?;
    assert_eq!(pods.len(), 3, "exactly 3 pods ran");
    assert!(pods
        .iter()
        .all(|p| p.metadata.finalizers.clone().unwrap_or_default().is_empty()));
    Ok(())
}

#[tokio::test]
async fn fails_after_backoff_limit() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<Job> = Api::namespaced(env.client.clone(), "default");
    api.create(&PostParams::default(), &job("bad", 1, 1, 1, false))
        .await?;
    // backoffLimit 1: the first failure is retried (after the 10 s backoff), the second fails the job.
    let failed = wait_for("job failed", 40, || async {
        finish_running(&env, "app=bad", 1).await?;
        let j = api.get("bad").await?;
        Ok(condition(&j, "Failed").then_some(j))
    })
    .await?;
    let s = failed.status.clone().unwrap_or_default();
    assert_eq!(s.failed, Some(2));
    assert!(condition(&failed, "FailureTarget"));
    let reason = s
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Failed")
        .and_then(|c| c.reason);
    assert_eq!(reason.as_deref(), Some("BackoffLimitExceeded"));
    Ok(())
}

#[tokio::test]
async fn indexed_pods_carry_their_index() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<Job> = Api::namespaced(env.client.clone(), "default");
    api.create(&PostParams::default(), &job("idx", 3, 3, 6, true))
        .await?;
    let pods = wait_for("3 indexed pods", 20, || async {
        let pods = live_pods(&env.client, "default", "app=idx").await?;
        Ok((pods.len() == 3).then_some(pods))
    })
    .await?;
    let mut seen: Vec<String> = pods
        .iter()
        .filter_map(|p| {
            p.metadata
                .annotations
                .as_ref()?
                .get("batch.kubernetes.io/job-completion-index")
                .cloned()
        })
        .collect();
    seen.sort();
    assert_eq!(seen, ["0", "1", "2"]);
    for p in &pods {
        let env_var = p
            .spec
            .as_ref()
            .and_then(|s| s.containers[0].env.clone())
            .unwrap_or_default();
        let e = env_var
            .iter()
            .find(|e| e.name == "JOB_COMPLETION_INDEX")
            .expect("JOB_COMPLETION_INDEX");
        let path = e
            .value_from
            .as_ref()
            .and_then(|v| v.field_ref.as_ref())
            .map(|f| f.field_path.clone());
        assert_eq!(
            path.as_deref(),
            Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
        );
    }
    finish_running(&env, "app=idx", 0).await?;
    let j = wait_for("indexed job complete", 20, || async {
        let j = api.get("idx").await?;
        Ok(condition(&j, "Complete").then_some(j))
    })
    .await?;
    assert_eq!(
        j.status.and_then(|s| s.completed_indexes).as_deref(),
        Some("0-2")
    );
    Ok(())
}
