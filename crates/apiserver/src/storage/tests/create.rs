use serde_json::json;

use super::{create_in_default, pod, res, state};
use crate::storage::{create, CreateRequest};

#[tokio::test]
async fn admission_defaults_a_new_pod() {
    let (state, _dir) = state().await;
    let created = create_in_default(&state, res("", "v1", "pods"), pod("p"))
        .await
        .expect("created");
    let spec = &created["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
    let meta = &created["metadata"];
    assert!(meta["uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(meta["resourceVersion"].as_str().is_some());
    assert_eq!(meta["generation"], 1);
    assert_eq!(meta["namespace"], "default");
}

#[tokio::test]
async fn invalid_objects_answer_422_with_causes() {
    let (state, _dir) = state().await;
    let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": []}});
    let err = create_in_default(&state, res("", "v1", "pods"), bad)
        .await
        .expect_err("invalid");
    assert_eq!((err.code, err.reason), (422, "Invalid"));
    let causes = err.details.as_ref().expect("details")["causes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        causes.iter().any(|c| c["field"] == "spec.containers"),
        "{causes:?}"
    );
    let stored = state
        .objects
        .get(res("", "v1", "pods"), Some("default"), "p");
    assert!(stored.await.expect("read").is_none());
}

#[tokio::test]
async fn dry_run_creates_nothing_and_names_are_generated() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}});
    let req = CreateRequest {
        res: cm,
        namespace: Some("default"),
        object: obj,
        dry_run: true,
    };
    let out = create(&state, req).await.expect("dry run");
    let name = out["metadata"]["name"].as_str().expect("generated name");
    assert!(name.starts_with("x-") && name.len() == 7, "{name}");
    assert!(state
        .objects
        .get(cm, Some("default"), name)
        .await
        .expect("read")
        .is_none());
}

#[tokio::test]
async fn existing_names_namespace_mismatches_and_missing_namespaces_are_refused() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    create_in_default(&state, cm, super::configmap("a"))
        .await
        .expect("created");
    let again = create_in_default(&state, cm, super::configmap("a")).await;
    assert_eq!(again.expect_err("exists").code, 409);
    let mut elsewhere = super::configmap("b");
    elsewhere["metadata"]["namespace"] = json!("kube-system");
    let mismatch = create_in_default(&state, cm, elsewhere).await;
    assert_eq!(mismatch.expect_err("mismatch").code, 400);
    let req = CreateRequest {
        res: cm,
        namespace: Some("nowhere"),
        object: super::configmap("c"),
        dry_run: false,
    };
    assert_eq!(create(&state, req).await.expect_err("no ns").code, 404);
}
