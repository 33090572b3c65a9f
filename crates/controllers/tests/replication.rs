//! ReplicationController: the ReplicaSet loop behind an equality selector, with pods that name
//! the ReplicationController as their controller, and the garbage collector following it.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{Pod, ReplicationController, ReplicationControllerSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use serde_json::json;

fn controller(name: &str, app: &str, replicas: i32) -> ReplicationController {
    ReplicationController {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(ReplicationControllerSpec {
            replicas: Some(replicas),
            selector: Some(labels(&[("app", app)])),
            template: Some(template(app, "busybox")),
            ..Default::default()
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

fn controlled_by(p: &Pod, uid: &str) -> bool {
    p.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == uid && r.controller == Some(true))
}

#[tokio::test]
async fn keeps_replicas_adopts_scales_and_is_collected() -> anyhow::Result<()> {
    let env = start().await?;
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let rcs: Api<ReplicationController> = Api::namespaced(env.client.clone(), "default");
    // A matching orphan made first is adopted and counts toward replicas.
    let orphan = Pod {
        metadata: ObjectMeta {
            name: Some("orphan".into()),
            labels: Some(labels(&[("app", "web")])),
            ..Default::default()
        },
        spec: template("web", "busybox").spec,
        status: None,
    };
    pods.create(&PostParams::default(), &orphan).await?;
    let rc = rcs
        .create(&PostParams::default(), &controller("web", "web", 2))
        .await?;
    let uid = rc.metadata.uid.clone().unwrap_or_default();
    let two = pod_count(&env, "web", 2).await?;
    assert!(two.iter().any(|p| name(p) == "orphan"), "{two:?}");
    let made = two.iter().find(|p| name(p) != "orphan").expect("a new pod");
    assert!(
        name(made).starts_with("web-"),
        "generated name {}",
        name(made)
    );
    let owner = &made.metadata.owner_references.as_ref().expect("owner")[0];
    assert_eq!(
        (
            owner.api_version.as_str(),
            owner.kind.as_str(),
            owner.name.as_str()
        ),
        ("v1", "ReplicationController", "web")
    );
    assert_eq!(
        (
            owner.uid.as_str(),
            owner.controller,
            owner.block_owner_deletion
        ),
        (uid.as_str(), Some(true), Some(true))
    );
    wait_for("adoption", 20, || async {
        Ok(controlled_by(&pods.get("orphan").await?, &uid).then_some(()))
    })
    .await?;

    // Status follows readiness, converted back to the ReplicationController's shape.
    ready_all(&env.client, "default", "app=web").await?;
    wait_for("ready status", 20, || async {
        let rc = rcs.get("web").await?;
        let s = rc.status.unwrap_or_default();
        Ok((s.replicas == 2
            && s.ready_replicas == Some(2)
            && s.available_replicas == Some(2)
            && s.fully_labeled_replicas == Some(2)
            && s.observed_generation == rc.metadata.generation)
            .then_some(()))
    })
    .await?;

    // Relabelled, the orphan is released and replaced.
    pods.patch(
        "orphan",
        &PatchParams::default(),
        &Patch::Merge(&json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await?;
    wait_for("release", 20, || async {
        Ok((!controlled_by(&pods.get("orphan").await?, &uid)).then_some(()))
    })
    .await?;
    pod_count(&env, "web", 2).await?;

    // The scale subresource resizes it.
    rcs.patch_scale(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"replicas": 3}})),
    )
    .await?;
    let scale = rcs.get_scale("web").await?;
    assert_eq!(
        scale.status.map(|s| s.selector),
        Some(Some("app=web".to_string()))
    );
    pod_count(&env, "web", 3).await?;

    // Deleted in the background, its pods are collected.
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    rcs.delete("web", &dp).await?;
    pod_count(&env, "web", 0).await?;
    assert!(
        pods.get_opt("orphan").await?.is_some(),
        "the released pod stays"
    );
    Ok(())
}

#[tokio::test]
async fn orphan_deletion_keeps_the_pods() -> anyhow::Result<()> {
    let env = start().await?;
    let rcs: Api<ReplicationController> = Api::namespaced(env.client.clone(), "default");
    let rc = rcs
        .create(&PostParams::default(), &controller("keep", "keep", 2))
        .await?;
    let uid = rc.metadata.uid.clone().unwrap_or_default();
    pod_count(&env, "keep", 2).await?;
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..Default::default()
    };
    rcs.delete("keep", &dp).await?;
    wait_for("controller removed", 20, || async {
        Ok(rcs.get_opt("keep").await?.is_none().then_some(()))
    })
    .await?;
    let left = wait_for("pods released", 20, || async {
        let pods = live_pods(&env.client, "default", "app=keep").await?;
        Ok(pods.iter().all(|p| !controlled_by(p, &uid)).then_some(pods))
    })
    .await?;
    assert_eq!(left.len(), 2);
    Ok(())
}
