mod common;

use std::collections::BTreeSet;

use common::*;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn daemonset(name: &str, image: &str) -> anyhow::Result<DaemonSet> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": template(name, image),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        },
    }))?)
}

/// The node a daemon pod is pinned to through required node affinity on `metadata.name`.
fn pinned_node(p: &Pod) -> Option<String> {
    let terms = &p
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    assert_eq!(terms.len(), 1, "one term pinning the pod");
    let fields = terms[0].match_fields.as_ref()?;
    assert_eq!(fields.len(), 1);
    assert_eq!(
        (fields[0].key.as_str(), fields[0].operator.as_str()),
        ("metadata.name", "In")
    );
    fields[0].values.as_ref()?.first().cloned()
}

fn image_of(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

fn hash_of(p: &Pod) -> String {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("controller-revision-hash"))
        .cloned()
        .unwrap_or_default()
}

async fn pods_on_nodes(env: &Env, n: usize) -> anyhow::Result<Vec<Pod>> {
    wait_for(&format!("{n} daemon pods"), 20, || async {
        let pods = live_pods(&env.client, "default", "app=agent").await?;
        Ok((pods.len() == n).then_some(pods))
    })
    .await
}

#[tokio::test]
async fn one_pod_per_eligible_node_and_rolling_update() -> anyhow::Result<()> {
    let env = start().await?;
    create_node(&env.client, "n1", &[], json!([])).await?;
    create_node(&env.client, "n2", &[], json!([])).await?;
    create_node(
        &env.client,
        "tainted",
        &[],
        json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
    )
    .await?;
    // Cordoned: daemon pods tolerate unschedulable by default.
    create_node(
        &env.client,
        "cordoned",
        &[],
        json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
    )
    .await?;
    let ds_api: Api<DaemonSet> = Api::namespaced(env.client.clone(), "default");
    ds_api
        .create(&PostParams::default(), &daemonset("agent", "busybox:1")?)
        .await?;

    let pods = pods_on_nodes(&env, 3).await?;
    let nodes: BTreeSet<String> = pods.iter().filter_map(pinned_node).collect();
    assert_eq!(nodes, ["cordoned", "n1", "n2"].map(String::from).into());
    for p in &pods {
        let tols = p
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.clone())
            .unwrap_or_default();
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            assert!(
                tols.iter().any(|t| t.key.as_deref() == Some(key)
                    && t.effect.as_deref() == Some("NoExecute")
                    && t.toleration_seconds.is_none()),
                "{key} tolerated forever: {tols:?}"
            );
        }
        assert!(!hash_of(p).is_empty());
    }
    let revs: Api<ControllerRevision> = Api::namespaced(env.client.clone(), "default");
    let first_revs = revs
        .list(&ListParams::default().labels("app=agent"))
        .await?
        .items;
    assert_eq!(first_revs.len(), 1);
    assert_eq!(first_revs[0].revision, 1);

    // A new node gets a pod.
    create_node(&env.client, "n3", &[], json!([])).await?;
    pods_on_nodes(&env, 4).await?;

    wait_for("status counters", 20, || async {
        ready_all(&env.client, "default", "app=agent").await?;
        let ds = ds_api.get("agent").await?;
        let s = ds.status.clone().unwrap_or_default();
        Ok((s.desired_number_scheduled == 4
            && s.current_number_scheduled == 4
            && s.number_ready == 4
            && s.number_available == Some(4)
            && s.updated_number_scheduled == Some(4)
            && s.number_misscheduled == 0
            && s.observed_generation == ds.metadata.generation)
            .then_some(()))
    })
    .await?;

    // Roll a new image: with maxUnavailable 1, at most one node is without a pod at a time.
    ds_api
        .patch(
            "agent",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}})),
        )
        .await?;
    let fewest = std::cell::Cell::new(usize::MAX);
    let rolled = wait_for("image rolled out", 40, || async {
        let pods = live_pods(&env.client, "default", "app=agent").await?;
        fewest.set(fewest.get().min(pods.len()));
        ready_all(&env.client, "default", "app=agent").await?;
        let ds = ds_api.get("agent").await?;
        let s = ds.status.clone().unwrap_or_default();
        let done = pods.len() == 4
            && pods.iter().all(|p| image_of(p) == "busybox:2")
            && s.updated_number_scheduled == Some(4)
            && s.number_available == Some(4);
        Ok(done.then_some(pods))
    })
    .await?;
    let fewest = fewest.get();
    assert!(
        fewest >= 3,
        "at most one node went without a pod (saw {fewest})"
    );
    let nodes: BTreeSet<String> = rolled.iter().filter_map(pinned_node).collect();
    assert_eq!(nodes.len(), 4);
    let all_revs = revs
        .list(&ListParams::default().labels("app=agent"))
        .await?
        .items;
    assert_eq!(all_revs.len(), 2, "old revision kept in history");
    let new_hash = hash_of(&rolled[0]);
    assert!(rolled.iter().all(|p| hash_of(p) == new_hash));
    assert_ne!(new_hash, hash_of(&pods[0]));

    // A node that stops matching the nodeSelector loses its pod.
    ds_api
        .patch(
            "agent",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/hostname": "n1"}}}}})),
        )
        .await?;
    let left = wait_for("only n1 keeps a pod", 40, || async {
        ready_all(&env.client, "default", "app=agent").await?;
        let pods = live_pods(&env.client, "default", "app=agent").await?;
        Ok((pods.len() == 1 && pinned_node(&pods[0]).as_deref() == Some("n1")).then_some(pods))
    })
    .await?;
    assert_eq!(left.len(), 1);
    Ok(())
}
