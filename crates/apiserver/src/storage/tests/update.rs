use serde_json::json;

use super::{configmap, create_in_default, deployment, generation, res, state, target};
use crate::storage::{
    patch, replace, update, Current, Part, PatchKind, PatchRequest, ReplaceRequest, UpdateRequest,
    Written,
};

#[tokio::test]
async fn a_replacement_naming_an_old_resource_version_conflicts() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    let created = create_in_default(&state, cm, configmap("a"))
        .await
        .expect("created");
    let mut first = created.clone();
    first["data"]["a"] = json!("2");
    let req = ReplaceRequest {
        target: target(cm, "a"),
        object: first,
        part: Part::Whole,
        dry_run: false,
    };
    let Written::Updated(updated) = replace(&state, req).await.expect("updated") else {
        panic!("an existing object is updated");
    };
    assert_ne!(
        updated["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    // A second writer still holding the object as created.
    let mut second = created.clone();
    second["data"]["a"] = json!("3");
    let req = ReplaceRequest {
        target: target(cm, "a"),
        object: second,
        part: Part::Whole,
        dry_run: false,
    };
    let err = replace(&state, req).await.expect_err("conflict");
    assert_eq!((err.code, err.reason), (409, "Conflict"));
    let (stored, _) = state
        .objects
        .must_get(cm, Some("default"), "a")
        .await
        .expect("read");
    assert_eq!(stored["data"]["a"], "2");
}

#[tokio::test]
async fn an_update_from_a_stale_read_loses_the_compare_and_swap() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    create_in_default(&state, cm, configmap("a"))
        .await
        .expect("created");
    let (read, stale) = state
        .objects
        .must_get(cm, Some("default"), "a")
        .await
        .expect("read");
    let write = |value: &str, revision| {
        let mut object = read.clone();
        object["data"]["a"] = json!(value);
        UpdateRequest {
            target: target(cm, "a"),
            current: Current {
                object: read.clone(),
                revision,
            },
            object,
            part: Part::Whole,
            dry_run: false,
        }
    };
    update(&state, write("2", stale))
        .await
        .expect("first write");
    let err = update(&state, write("3", stale))
        .await
        .expect_err("stale revision");
    assert_eq!(err.code, 409);
}

#[tokio::test]
async fn generation_bumps_on_spec_changes_only() {
    let (state, _dir) = state().await;
    let deploy = res("apps", "v1", "deployments");
    let created = create_in_default(&state, deploy, deployment("d"))
        .await
        .expect("created");
    assert_eq!(generation(&created), 1);
    let put = |object| ReplaceRequest {
        target: target(deploy, "d"),
        object,
        part: Part::Whole,
        dry_run: false,
    };
    let mut labelled = created.clone();
    labelled["metadata"]["labels"] = json!({"tier": "web"});
    let Written::Updated(labelled) = replace(&state, put(labelled)).await.expect("labels") else {
        panic!("updated");
    };
    assert_eq!(generation(&labelled), 1);
    let mut scaled = labelled.clone();
    scaled["spec"]["replicas"] = json!(3);
    let Written::Updated(scaled) = replace(&state, put(scaled)).await.expect("spec") else {
        panic!("updated");
    };
    assert_eq!(generation(&scaled), 2);
    // An unchanged replacement writes nothing: same resourceVersion.
    let Written::Updated(same) = replace(&state, put(scaled.clone())).await.expect("no-op") else {
        panic!("updated");
    };
    assert_eq!(
        same["metadata"]["resourceVersion"],
        scaled["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn the_status_endpoint_changes_only_status_and_the_main_one_never_does() {
    let (state, _dir) = state().await;
    let deploy = res("apps", "v1", "deployments");
    let created = create_in_default(&state, deploy, deployment("d"))
        .await
        .expect("created");
    let mut both = created.clone();
    both["spec"]["replicas"] = json!(5);
    both["status"] = json!({"replicas": 1});
    both["metadata"]["labels"] = json!({"changed": "yes"});
    let status_write = ReplaceRequest {
        target: target(deploy, "d"),
        object: both.clone(),
        part: Part::Status,
        dry_run: false,
    };
    let Written::Updated(out) = replace(&state, status_write).await.expect("status") else {
        panic!("updated");
    };
    assert_eq!(out["status"]["replicas"], 1);
    assert_eq!(out["spec"]["replicas"], 1);
    assert!(out["metadata"].get("labels").is_none());
    assert_eq!(generation(&out), 1);

    let mut main = out.clone();
    main["status"] = json!({"replicas": 7});
    main["spec"]["replicas"] = json!(2);
    let main_write = ReplaceRequest {
        target: target(deploy, "d"),
        object: main,
        part: Part::Whole,
        dry_run: false,
    };
    let Written::Updated(out) = replace(&state, main_write).await.expect("main") else {
        panic!("updated");
    };
    assert_eq!(out["status"]["replicas"], 1);
    assert_eq!(out["spec"]["replicas"], 2);
}

#[tokio::test]
async fn patches_merge_into_the_stored_object_and_apply_creates() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    let req = |patch, kind| PatchRequest {
        target: target(cm, "a"),
        patch,
        kind,
        part: Part::Whole,
        dry_run: false,
        strict: false,
    };
    let merge = req(json!({"data": {"b": "2"}}), PatchKind::Merge);
    assert_eq!(patch(&state, merge).await.expect_err("missing").code, 404);
    let applied = req(configmap("a"), PatchKind::Apply);
    assert!(matches!(
        patch(&state, applied).await.expect("applied"),
        Written::Created(_)
    ));
    let merge = req(json!({"data": {"b": "2"}}), PatchKind::Merge);
    let Written::Updated(out) = patch(&state, merge).await.expect("merged") else {
        panic!("updated");
    };
    assert_eq!(out["data"], json!({"a": "1", "b": "2"}));
    let pinned = req(
        json!({"metadata": {"resourceVersion": "1"}, "data": {"c": "3"}}),
        PatchKind::Merge,
    );
    assert_eq!(patch(&state, pinned).await.expect_err("pinned").code, 409);
}
