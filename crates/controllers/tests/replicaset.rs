mod common;

use common::*;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn replicaset(name: &str, app: &str, replicas: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: Some(0),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", app)])),
                ..Default::default()
            },
            template: Some(template(app, "busybox")),
        }),
        status: None,
    }
}

async fn pod_count(env: &Env, app: &str, n: usize) -> anyhow::Result<Vec<Pod>> {
    let sel = format!("app={app}");
    wait_for(&format!("{n} pods of {app}"), 20, || async {
        let pods = live_pods(&env.client, "default", &sel).await?;
        Ok((pods.len() == n).then_some(pods))
    })
    .await
}

#[tokio::test]
async fn keeps_replicas_and_replaces_deleted_pods() -> anyhow::Result<()> {
    let env = start().await?;
    let rs_api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let rs = rs_api
        .create(&PostParams::default(), &replicaset("web", "web", 3))
        .await?;
    let first = pod_count(&env, "web", 3).await?;
    for p in &first {
        let n = name(p);
        assert!(
            n.starts_with("web-") && n.len() == "web-".len() + 5,
            "generated name {n}"
        );
        let owner = &p.metadata.owner_references.as_ref().expect("owner")[0];
        assert_eq!(owner.uid, rs.metadata.uid.clone().unwrap_or_default());
        assert_eq!(
            (owner.controller, owner.block_owner_deletion),
            (Some(true), Some(true))
        );
    }
    // Delete one: a replacement with a new name appears.
    let victim = name(&first[0]);
    pods.delete(&victim, &DeleteParams::default()).await?;
    let after = wait_for("replacement pod", 20, || async {
        let now = live_pods(&env.client, "default", "app=web").await?;
        Ok((now.len() == 3 && now.iter().all(|p| name(p) != victim)).then_some(now))
    })
    .await?;
    assert_eq!(after.len(), 3);

    // Status follows readiness.
    for p in &after {
        mark_ready(&env.client, "default", &name(p)).await?;
    }
    wait_for("ready status", 20, || async {
        let rs = rs_api.get("web").await?;
        let s = rs.status.unwrap_or_default();
        Ok((s.replicas == 3
            && s.ready_replicas == Some(3)
            && s.available_replicas == Some(3)
            && s.fully_labeled_replicas == Some(3)
            && s.observed_generation == rs.metadata.generation)
            .then_some(()))
    })
    .await?;

    // Scale down to 1: the two least valuable go; make one pod pending (not ready) first.
    let ready_keep: Vec<String> = after.iter().map(name).collect();
    let body = json!({"status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}});
    pods.patch_status(
        &ready_keep[0],
        &PatchParams::default(),
        &Patch::Merge(&body),
    )
    .await?;
    wait_for("rs sees the pending pod", 20, || async {
        let s = rs_api.get("web").await?.status.unwrap_or_default();
        Ok((s.ready_replicas == Some(2)).then_some(()))
    })
    .await?;
    rs_api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 2}})),
        )
        .await?;
    let left = pod_count(&env, "web", 2).await?;
    assert!(
        left.iter().all(|p| name(p) != ready_keep[0]),
        "the pending pod is deleted first"
    );
    Ok(())
}

#[tokio::test]
async fn adopts_orphans_and_releases_non_matching() -> anyhow::Result<()> {
    let env = start().await?;
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    // An orphan that matches, created before the ReplicaSet.
    let orphan = Pod {
        metadata: ObjectMeta {
            name: Some("orphan".into()),
            labels: Some(labels(&[("app", "adopt")])),
            ..Default::default()
        },
        spec: template("adopt", "busybox").spec,
        status: None,
    };
    pods.create(&PostParams::default(), &orphan).await?;
    let rs_api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    let rs = rs_api
        .create(&PostParams::default(), &replicaset("adopter", "adopt", 2))
        .await?;
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let both = pod_count(&env, "adopt", 2).await?;
    assert!(
        both.iter().any(|p| name(p) == "orphan"),
        "the orphan counts toward replicas"
    );
    wait_for("adoption", 20, || async {
        let p = pods.get("orphan").await?;
        Ok(p.metadata
            .owner_references
            .unwrap_or_default()
            .iter()
            .any(|r| r.uid == uid && r.controller == Some(true))
            .then_some(()))
    })
    .await?;
    // Relabel it: it is released and replaced.
    pods.patch(
        "orphan",
        &PatchParams::default(),
        &Patch::Merge(&json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await?;
    wait_for("release", 20, || async {
        let p = pods.get("orphan").await?;
        Ok(p.metadata
            .owner_references
            .unwrap_or_default()
            .iter()
            .all(|r| r.uid != uid)
            .then_some(()))
    })
    .await?;
    pod_count(&env, "adopt", 2).await?;
    Ok(())
}
