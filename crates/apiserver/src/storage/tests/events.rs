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
