use super::{ago, cell, text};
use peapod_apimachinery::gvk::kinds::{EVENT, EVENTS_V1_EVENT};
use serde_json::json;

#[test]
fn core_event_row() {
    let e = json!({
        "metadata": {"name": "web.17f1", "namespace": "default", "creationTimestamp": ago(300)},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
        "reason": "Pulled", "message": "  Container image pulled\n", "type": "Normal", "count": 3,
        "firstTimestamp": ago(300), "lastTimestamp": ago(20),
        "source": {"component": "kubelet", "host": "node1"},
    });
    assert_eq!(text(EVENT, &e, "Last Seen"), "20s");
    assert_eq!(text(EVENT, &e, "Type"), "Normal");
    assert_eq!(text(EVENT, &e, "Reason"), "Pulled");
    assert_eq!(text(EVENT, &e, "Object"), "pod/web");
    assert_eq!(text(EVENT, &e, "Message"), "Container image pulled");
    assert_eq!(text(EVENT, &e, "Subobject"), "spec.containers{app}");
    assert_eq!(text(EVENT, &e, "Source"), "kubelet, node1");
    assert_eq!(text(EVENT, &e, "First Seen"), "5m");
    assert_eq!(cell(EVENT, &e, "Count"), json!(3));
    assert_eq!(text(EVENT, &e, "Name"), "web.17f1");
}

#[test]
fn new_style_core_event_uses_event_time_and_series() {
    let single = json!({
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Node"},
        "eventTime": "2025-01-01T11:59:00.123456Z",
        "reportingComponent": "peapod-scheduler",
    });
    // 59.88s elapsed: MicroTime fractions are kept and whole seconds truncated.
    assert_eq!(text(EVENT, &single, "First Seen"), "59s");
    assert_eq!(text(EVENT, &single, "Last Seen"), "59s");
    assert_eq!(cell(EVENT, &single, "Count"), json!(1));
    assert_eq!(text(EVENT, &single, "Object"), "node");
    assert_eq!(text(EVENT, &single, "Source"), "peapod-scheduler");

    let series = json!({
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Pod", "name": "web"},
        "eventTime": ago(600),
        "series": {"count": 7, "lastObservedTime": ago(5)},
    });
    assert_eq!(text(EVENT, &series, "Last Seen"), "5s");
    assert_eq!(cell(EVENT, &series, "Count"), json!(7));
}

#[test]
fn missing_times_are_unknown() {
    let e = json!({"metadata": {"name": "e"}});
    assert_eq!(text(EVENT, &e, "Last Seen"), "<unknown>");
    assert_eq!(text(EVENT, &e, "Object"), "");
    assert_eq!(text(EVENT, &e, "Source"), "");
}

#[test]
fn events_k8s_io_event_row() {
    let e = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "api.1"},
        "regarding": {"kind": "Deployment", "name": "api"},
        "note": "Scaled up replica set api-5d8f to 3", "reason": "ScalingReplicaSet", "type": "Normal",
        "reportingController": "deployment-controller", "reportingInstance": "peapod-0",
        "deprecatedFirstTimestamp": ago(400), "deprecatedLastTimestamp": ago(100), "deprecatedCount": 2,
    });
    assert_eq!(text(EVENTS_V1_EVENT, &e, "Last Seen"), "100s");
    assert_eq!(text(EVENTS_V1_EVENT, &e, "First Seen"), "6m40s");
    assert_eq!(text(EVENTS_V1_EVENT, &e, "Object"), "deployment/api");
    assert_eq!(
        text(EVENTS_V1_EVENT, &e, "Message"),
        "Scaled up replica set api-5d8f to 3"
    );
    assert_eq!(
        text(EVENTS_V1_EVENT, &e, "Source"),
        "deployment-controller, peapod-0"
    );
    assert_eq!(cell(EVENTS_V1_EVENT, &e, "Count"), json!(2));
}
