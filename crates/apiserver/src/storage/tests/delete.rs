use serde_json::json;

use super::{configmap, create_in_default, pod, res, state, target};
use crate::storage::{
    delete, remove_namespace, update, Current, DeleteOptions, Part, UpdateRequest,
};

#[tokio::test]
async fn finalizers_hold_deletion_until_the_last_is_removed() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    let mut held = configmap("a");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    create_in_default(&state, cm, held).await.expect("created");
    let deletion = delete(&state, target(cm, "a"), &DeleteOptions::default())
        .await
        .expect("deleting");
    assert!(!deletion.gone);
    assert!(deletion.object["metadata"]["deletionTimestamp"].is_string());
    let (current, revision) = state
        .objects
        .must_get(cm, Some("default"), "a")
        .await
        .expect("still stored");
    let mut released = current.clone();
    released["metadata"]["finalizers"] = json!([]);
    let req = UpdateRequest {
        target: target(cm, "a"),
        current: Current {
            object: current,
            revision,
        },
        object: released,
        part: Part::Whole,
        dry_run: false,
    };
    update(&state, req).await.expect("finalizer removed");
    let gone = state.objects.get(cm, Some("default"), "a").await;
    assert!(gone.expect("read").is_none());
}

#[tokio::test]
async fn a_pod_on_a_node_is_deleted_gracefully_and_one_unscheduled_at_once() {
    let (state, _dir) = state().await;
    let pods = res("", "v1", "pods");
    let mut bound = pod("bound");
    bound["spec"]["nodeName"] = json!("node-1");
    create_in_default(&state, pods, bound)
        .await
        .expect("created");
    create_in_default(&state, pods, pod("pending"))
        .await
        .expect("created");

    let graceful = delete(&state, target(pods, "bound"), &DeleteOptions::default())
        .await
        .expect("deleting");
    assert!(!graceful.gone);
    let meta = &graceful.object["metadata"];
    assert!(meta["deletionTimestamp"].is_string());
    assert_eq!(meta["deletionGracePeriodSeconds"], 30);
    // A shorter grace period shortens it; the agent's final delete uses 0.
    let shorter = DeleteOptions {
        grace_period: Some(5),
        ..Default::default()
    };
    let again = delete(&state, target(pods, "bound"), &shorter)
        .await
        .expect("shortened");
    assert_eq!(again.object["metadata"]["deletionGracePeriodSeconds"], 5);

    let now = delete(&state, target(pods, "pending"), &DeleteOptions::default())
        .await
        .expect("deleted");
    assert!(now.gone);
}

#[tokio::test]
async fn preconditions_and_dry_run_leave_the_object_alone() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    create_in_default(&state, cm, configmap("a"))
        .await
        .expect("created");
    let wrong_uid = DeleteOptions {
        precondition_uid: Some("not-the-uid".into()),
        ..Default::default()
    };
    let err = delete(&state, target(cm, "a"), &wrong_uid)
        .await
        .expect_err("precondition");
    assert_eq!(err.code, 409);
    let dry = DeleteOptions {
        dry_run: true,
        ..Default::default()
    };
    assert!(
        delete(&state, target(cm, "a"), &dry)
            .await
            .expect("dry")
            .gone
    );
    let stored = state.objects.get(cm, Some("default"), "a").await;
    assert!(stored.expect("read").is_some());
}

#[tokio::test]
async fn a_namespace_is_marked_terminating_then_removed_unless_a_finalizer_holds_it() {
    let (state, _dir) = state().await;
    let namespaces = res("", "v1", "namespaces");
    for (name, finalizers) in [
        ("emptied", json!([])),
        ("held", json!(["example.com/hold"])),
    ] {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": name, "finalizers": finalizers},
                        "spec": {"finalizers": ["kubernetes"]}});
        let req = crate::storage::CreateRequest {
            res: namespaces,
            namespace: None,
            object: ns,
            dry_run: false,
        };
        crate::storage::create(&state, req).await.expect("created");
        let marked = delete(&state, target(namespaces, name), &DeleteOptions::default())
            .await
            .expect("terminating");
        assert!(!marked.gone);
        assert_eq!(marked.object["status"]["phase"], "Terminating");
        remove_namespace(&state, name).await.expect("removed");
    }
    let get = |name| state.objects.get(namespaces, None, name);
    assert!(get("emptied").await.expect("read").is_none());
    assert!(get("held").await.expect("read").is_some());
}
