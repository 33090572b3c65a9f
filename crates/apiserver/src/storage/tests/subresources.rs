use serde_json::json;

use super::{configmap, create_in_default, deployment, generation, pod, res, state, target};
use crate::storage::{bind_pod, delete_listed, requested_replicas, set_replicas, DeleteOptions};

#[tokio::test]
async fn scale_writes_replicas_through_the_update_rules() {
    let (state, _dir) = state().await;
    let deploy = res("apps", "v1", "deployments");
    create_in_default(&state, deploy, deployment("d"))
        .await
        .expect("created");
    let d = target(deploy, "d");
    assert_eq!(
        requested_replicas(d, &json!(-1))
            .expect_err("negative")
            .code,
        422
    );
    assert_eq!(
        requested_replicas(d, &json!(null))
            .expect_err("missing")
            .code,
        422
    );
    let n = requested_replicas(d, &json!(4)).expect("valid");
    let out = set_replicas(&state, d, n, None, false)
        .await
        .expect("scaled");
    assert_eq!(out["spec"]["replicas"], 4);
    assert_eq!(generation(&out), 2);
    let stale = set_replicas(&state, d, 5, Some("1"), false).await;
    assert_eq!(stale.expect_err("pinned to an old revision").code, 409);
}

#[tokio::test]
async fn a_pod_is_bound_once() {
    let (state, _dir) = state().await;
    let pods = res("", "v1", "pods");
    create_in_default(&state, pods, pod("p"))
        .await
        .expect("created");
    bind_pod(&state, target(pods, "p"), "node-1")
        .await
        .expect("bound");
    let (bound, _) = state
        .objects
        .must_get(pods, Some("default"), "p")
        .await
        .expect("read");
    assert_eq!(bound["spec"]["nodeName"], "node-1");
    let scheduled = bound["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled").cloned())
        .expect("PodScheduled");
    assert_eq!(scheduled["status"], "True");
    let again = bind_pod(&state, target(pods, "p"), "node-2").await;
    assert_eq!(again.expect_err("already bound").code, 409);
}

#[tokio::test]
async fn deleting_a_list_answers_what_was_listed_and_skips_the_vanished() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    let a = create_in_default(&state, cm, configmap("a"))
        .await
        .expect("a");
    let mut vanished = configmap("b");
    vanished["metadata"]["namespace"] = json!("default");
    let deleted = delete_listed(
        &state,
        cm,
        vec![a.clone(), vanished],
        &DeleteOptions::default(),
    )
    .await
    .expect("deleted");
    assert_eq!(deleted, vec![a]);
    let stored = state.objects.get(cm, Some("default"), "a").await;
    assert!(stored.expect("read").is_none());
}
