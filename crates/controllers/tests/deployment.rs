mod common;

use common::*;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, RollingUpdateDeployment,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn deployment(name: &str, image: &str, strategy: DeploymentStrategy) -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(3),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", name)])),
                ..Default::default()
            },
            template: template(name, image),
            strategy: Some(strategy),
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(600),
            min_ready_seconds: Some(0),
            paused: None,
        }),
        status: None,
    }
}

fn rolling(surge: i32, unavailable: i32) -> DeploymentStrategy {
    DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(IntOrString::Int(surge)),
            max_unavailable: Some(IntOrString::Int(unavailable)),
        }),
    }
}

fn image_of(p: &k8s_openapi::api::core::v1::Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// What `kubectl rollout status` waits for.
async fn rolled_out(env: &Env, name: &str) -> anyhow::Result<Deployment> {
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "default");
    let sel = format!("app={name}");
    wait_for("rollout complete", 30, || async {
        ready_all(&env.client, "default", &sel).await?;
        let d = api.get(name).await?;
        let s = d.status.clone().unwrap_or_default();
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let done = s.observed_generation >= d.metadata.generation
            && s.updated_replicas == Some(want)
            && s.replicas == Some(want)
            && s.available_replicas == Some(want);
        Ok(done.then_some(d))
    })
    .await
}

async fn replicasets(env: &Env, name: &str) -> anyhow::Result<Vec<ReplicaSet>> {
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    let sel = format!("app={name}");
    Ok(api.list(&ListParams::default().labels(&sel)).await?.items)
}

fn revision(rs: &ReplicaSet) -> String {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn rolling_update_never_drops_ready_pods_and_rolls_back() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &deployment("web", "img:a", rolling(1, 0)),
    )
    .await?;
    let d = rolled_out(&env, "web").await?;
    let cond = d
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .cloned()
        .unwrap_or_default();
    assert!(cond
        .iter()
        .any(|c| c.type_ == "Available" && c.status == "True"));
    assert!(
        cond.iter()
            .any(|c| c.type_ == "Progressing"
                && c.reason.as_deref() == Some("NewReplicaSetAvailable"))
    );
    let rss = replicasets(&env, "web").await?;
    assert_eq!(rss.len(), 1);
    let hash = rss[0]
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("pod-template-hash"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        rss[0].metadata.name.clone().unwrap_or_default(),
        format!("web-{hash}")
    );
    assert_eq!(revision(&rss[0]), "1");

    // Image A -> B, step by step: ready pods never fall below 3, never more than 4 pods.
    api.patch("web", &PatchParams::default(), &Patch::Merge(&json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "img:b"}]}}}}))).await?;
    wait_for("rollout to img:b", 40, || async {
        let pods = live_pods(&env.client, "default", "app=web").await?;
        let ready = pods.iter().filter(|p| is_ready(p)).count();
        assert!(ready >= 3, "ready pods dropped to {ready}");
        assert!(pods.len() <= 4, "surge exceeded: {} pods", pods.len());
        // The node: the newest pending pod becomes ready.
        if let Some(p) = pods.iter().find(|p| !is_ready(p)) {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            mark_ready(&env.client, "default", &name(p)).await?;
        }
        let done = pods.len() == 3 && pods.iter().all(|p| image_of(p) == "img:b" && is_ready(p));
        Ok(done.then_some(()))
    })
    .await?;
    let d = rolled_out(&env, "web").await?;
    assert_eq!(
        d.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .map(String::as_str),
        Some("2")
    );
    let rss = replicasets(&env, "web").await?;
    assert_eq!(rss.len(), 2, "old ReplicaSet kept as history");

    // Rollback (what kubectl rollout undo does): the old template again; its ReplicaSet
    // becomes revision 3.
    api.patch("web", &PatchParams::default(), &Patch::Merge(&json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "img:a"}]}}}}))).await?;
    rolled_out(&env, "web").await?;
    let pods = live_pods(&env.client, "default", "app=web").await?;
    assert!(pods.iter().all(|p| image_of(p) == "img:a"));
    let rss = replicasets(&env, "web").await?;
    assert_eq!(
        rss.len(),
        2,
        "the old ReplicaSet was reused, not duplicated"
    );
    let back = rss
        .iter()
        .find(|rs| {
            rs.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
                == Some(&hash)
        })
        .expect("old rs");
    assert_eq!(revision(back), "3");

    // Scale through the deployment.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"replicas": 5}})),
    )
    .await?;
    rolled_out(&env, "web").await?;
    assert_eq!(live_pods(&env.client, "default", "app=web").await?.len(), 5);
    Ok(())
}

#[tokio::test]
async fn recreate_removes_old_pods_before_new_ones() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "default");
    let strategy = DeploymentStrategy {
        type_: Some("Recreate".into()),
        rolling_update: None,
    };
    api.create(
        &PostParams::default(),
        &deployment("rec", "img:a", strategy),
    )
    .await?;
    rolled_out(&env, "rec").await?;
    api.patch("rec", &PatchParams::default(), &Patch::Merge(&json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "img:b"}]}}}}))).await?;
    wait_for("recreate", 30, || async {
        let pods = live_pods(&env.client, "default", "app=rec").await?;
        let old = pods.iter().filter(|p| image_of(p) == "img:a").count();
        let new = pods.iter().filter(|p| image_of(p) == "img:b").count();
        assert!(old == 0 || new == 0, "old and new pods at the same time");
        ready_all(&env.client, "default", "app=rec").await?;
        Ok((new == 3).then_some(()))
    })
    .await?;
    rolled_out(&env, "rec").await?;
    Ok(())
}
