use super::{configmap, create_in_default, res, state};
use crate::object_store::decode;
use crate::storage::record_event;

#[tokio::test]
async fn events_are_recorded_without_going_through_http() {
    let (state, _dir) = state().await;
    let cm = res("", "v1", "configmaps");
    let about = create_in_default(&state, cm, configmap("a"))
        .await
        .expect("created");
    record_event(&state, &about, "Warning", "Testing", "a message", "tests").await;
    let events = res("", "v1", "events");
    let list = state
        .objects
        .store
        .list(&events.list_prefix(Some("default")), None, 0)
        .await
        .expect("list");
    let recorded: Vec<_> = list
        .kvs
        .iter()
        .map(|kv| decode(kv).expect("event"))
        .collect();
    assert_eq!(recorded.len(), 1);
    let event = &recorded[0];
    assert_eq!(event["reason"], "Testing");
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["involvedObject"]["name"], "a");
    assert_eq!(event["involvedObject"]["uid"], about["metadata"]["uid"]);
    assert!(event["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("a.")));
}

#[tokio::test]
async fn a_pod_preset_conflict_found_at_admission_is_recorded_on_the_pod() {
    let (state, _dir) = state().await;
    let preset = serde_json::json!({
        "apiVersion": "settings.k8s.io/v1alpha1", "kind": "PodPreset",
        "metadata": {"name": "allow-database"},
        "spec": {"selector": {"matchLabels": {"role": "frontend"}},
                 "env": [{"name": "DB_PORT", "value": "6379"}]}});
    create_in_default(
        &state,
        res("settings.k8s.io", "v1alpha1", "podpresets"),
        preset,
    )
    .await
    .expect("preset");
    let mut clash = super::pod("clash");
    clash["metadata"]["labels"] = serde_json::json!({"role": "frontend"});
    clash["spec"]["containers"][0]["env"] = serde_json::json!([{"name": "DB_PORT", "value": "1"}]);
    let created = create_in_default(&state, res("", "v1", "pods"), clash)
        .await
        .expect("pod");
    assert_eq!(created["spec"]["containers"][0]["env"][0]["value"], "1");
    let events = res("", "v1", "events");
    let list = state
        .objects
        .store
        .list(&events.list_prefix(Some("default")), None, 0)
        .await
        .expect("list");
    let recorded: Vec<_> = list
        .kvs
        .iter()
        .map(|kv| decode(kv).expect("event"))
        .collect();
    assert!(
        recorded
            .iter()
            .any(|e| e["reason"] == "FailedPodPreset" && e["involvedObject"]["name"] == "clash"),
        "{recorded:?}"
    );
}
