mod common;

use common::*;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, DeleteParams, PostParams, PropagationPolicy};

async fn rs_with_pods(env: &Env, name: &str) -> anyhow::Result<Vec<Pod>> {
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(2),
            min_ready_seconds: Some(0),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", name)])),
                ..Default::default()
            },
            template: Some(template(name, "busybox")),
        }),
        status: None,
    };
    api.create(&PostParams::default(), &rs).await?;
    let sel = format!("app={name}");
    wait_for("2 pods", 20, || async {
        let pods = live_pods(&env.client, "default", &sel).await?;
        Ok((pods.len() == 2).then_some(pods))
    })
    .await
}

async fn delete_rs(env: &Env, name: &str, policy: PropagationPolicy) -> anyhow::Result<()> {
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    let dp = DeleteParams {
        propagation_policy: Some(policy),
        ..Default::default()
    };
    api.delete(name, &dp).await?;
    Ok(())
}

async fn rs_gone(env: &Env, name: &str) -> anyhow::Result<()> {
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    wait_for("replicaset removed", 20, || async {
        Ok(api.get_opt(name).await?.is_none().then_some(()))
    })
    .await
}

#[tokio::test]
async fn background_deletes_dependents_after_owner() -> anyhow::Result<()> {
    let env = start().await?;
    rs_with_pods(&env, "bg").await?;
    delete_rs(&env, "bg", PropagationPolicy::Background).await?;
    rs_gone(&env, "bg").await?;
    wait_for("pods collected", 20, || async {
        Ok(live_pods(&env.client, "default", "app=bg")
            .await?
            .is_empty()
            .then_some(()))
    })
    .await
}

#[tokio::test]
async fn foreground_deletes_dependents_before_owner() -> anyhow::Result<()> {
    let env = start().await?;
    let pods = rs_with_pods(&env, "fg").await?;
    // Hold one pod with a finalizer of our own so the owner must wait for it.
    let pod_api: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let held = name(&pods[0]);
    let patch = serde_json::json!({"metadata": {"finalizers": ["test/hold"]}});
    pod_api
        .patch(
            &held,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await?;
    delete_rs(&env, "fg", PropagationPolicy::Foreground).await?;
    let api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "default");
    // The other pod goes; the held one is being deleted; the owner waits with its finalizer.
    wait_for("dependents deleting", 20, || async {
        let all = pod_api.list(&Default::default()).await?.items;
        let fg: Vec<_> = all
            .iter()
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("app"))
                    .map(String::as_str)
                    == Some("fg")
            })
            .collect();
        Ok((fg.len() == 1 && fg[0].metadata.deletion_timestamp.is_some()).then_some(()))
    })
    .await?;
    let rs = api.get("fg").await?;
    assert!(rs.metadata.deletion_timestamp.is_some());
    assert!(rs
        .metadata
        .finalizers
        .unwrap_or_default()
        .contains(&"foregroundDeletion".to_string()));
    // Release the pod: then the owner goes too.
    let patch = serde_json::json!({"metadata": {"finalizers": null}});
    pod_api
        .patch(
            &held,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await?;
    rs_gone(&env, "fg").await
}

#[tokio::test]
async fn orphan_keeps_dependents_without_owner_reference() -> anyhow::Result<()> {
    let env = start().await?;
    rs_with_pods(&env, "orph").await?;
    delete_rs(&env, "orph", PropagationPolicy::Orphan).await?;
    rs_gone(&env, "orph").await?;
    let pods = live_pods(&env.client, "default", "app=orph").await?;
    assert_eq!(pods.len(), 2);
    for p in pods {
        assert!(
            p.metadata.owner_references.unwrap_or_default().is_empty(),
            "owner reference removed"
        );
    }
    Ok(())
}
