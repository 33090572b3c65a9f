//! Time, MicroTime, Duration-free kinds with timestamps, and DeleteOptions.

mod common;

use common::{assert_json_eq, decode_message, go_meta, s, typed};
use k8s_pb::api::coordination::v1 as coordination;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::events::v1 as events;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{DeleteOptions, MicroTime, Preconditions, Time};
use serde_json::json;

fn micro(seconds: i64, nanos: i32) -> Option<MicroTime> {
    Some(MicroTime {
        seconds: Some(seconds),
        nanos: Some(nanos),
    })
}

#[test]
fn lease_with_micro_times() {
    let lease = coordination::Lease {
        metadata: Some(go_meta("node-a", "kube-node-lease")),
        spec: Some(coordination::LeaseSpec {
            holder_identity: s("node-a"),
            lease_duration_seconds: Some(40),
            acquire_time: micro(1_700_000_000, 5_000),
            renew_time: micro(1_700_000_010, 123_456_789),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    let json = decode_message("coordination.k8s.io/v1", "Lease", &lease);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "node-a", "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": "node-a",
                "leaseDurationSeconds": 40,
                "acquireTime": "2023-11-14T22:13:20.000005Z",
                "renewTime": "2023-11-14T22:13:30.123456Z",
                "leaseTransitions": 0
            }
        }),
    );
    let _: k8s_openapi::api::coordination::v1::Lease = typed(&json);
}

#[test]
fn core_event_drops_zero_times_and_keeps_counts() {
    let event = core::Event {
        metadata: Some(go_meta("web.1", "default")),
        involved_object: Some(core::ObjectReference {
            kind: s("Pod"),
            name: s("web"),
            namespace: s("default"),
            ..Default::default()
        }),
        reason: s("Pulled"),
        message: s("pulled image"),
        source: Some(core::EventSource {
            component: s("kubelet"),
            host: s(""),
        }),
        first_timestamp: Some(Time {
            seconds: Some(1_700_000_000),
            nanos: Some(0),
        }),
        last_timestamp: Some(Time {
            seconds: Some(1_700_000_000),
            nanos: Some(0),
        }),
        count: Some(1),
        r#type: s("Normal"),
        event_time: Some(MicroTime::default()),
        series: None,
        action: s(""),
        related: None,
        reporting_component: s(""),
        reporting_instance: s(""),
    };
    let json = decode_message("v1", "Event", &event);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
            "reason": "Pulled", "message": "pulled image",
            "source": {"component": "kubelet"},
            "firstTimestamp": "2023-11-14T22:13:20Z",
            "lastTimestamp": "2023-11-14T22:13:20Z",
            "count": 1, "type": "Normal",
            "reportingComponent": "", "reportingInstance": ""
        }),
    );
    let _: k8s_openapi::api::core::v1::Event = typed(&json);
}

#[test]
fn events_v1_event_with_series() {
    let event = events::Event {
        metadata: Some(go_meta("web.2", "default")),
        event_time: micro(1_700_000_000, 999_999_999),
        series: Some(events::EventSeries {
            count: Some(2),
            last_observed_time: micro(1_700_000_001, 0),
        }),
        reporting_controller: s("peapod/kubelet"),
        reporting_instance: s("node-a"),
        action: s("Pull"),
        reason: s("Pulled"),
        regarding: Some(core::ObjectReference {
            kind: s("Pod"),
            name: s("web"),
            ..Default::default()
        }),
        note: s("done"),
        r#type: s("Normal"),
        deprecated_count: Some(0),
        ..Default::default()
    };
    let json = decode_message("events.k8s.io/v1", "Event", &event);
    assert_eq!(json["eventTime"], "2023-11-14T22:13:20.999999Z");
    assert_eq!(
        json["series"],
        json!({"count": 2, "lastObservedTime": "2023-11-14T22:13:21.000000Z"})
    );
    assert_eq!(json["reportingController"], "peapod/kubelet");
    assert!(
        json.get("deprecatedCount").is_none(),
        "omitempty zero int is dropped"
    );
    let _: k8s_openapi::api::events::v1::Event = typed(&json);
}

#[test]
fn delete_options_keep_explicit_zero_grace_period() {
    let options = DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: s("abc"),
            resource_version: None,
        }),
        orphan_dependents: None,
        propagation_policy: s("Foreground"),
        dry_run: vec!["All".to_string()],
        ignore_store_read_error_with_cluster_breaking_potential: None,
    };
    for api_version in ["v1", "meta.k8s.io/v1"] {
        let json = decode_message(api_version, "DeleteOptions", &options);
        assert_json_eq(
            &json,
            &json!({
                "apiVersion": api_version, "kind": "DeleteOptions",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "abc"},
                "propagationPolicy": "Foreground",
                "dryRun": ["All"]
            }),
        );
        let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions = typed(&json);
        assert_eq!(typed.grace_period_seconds, Some(0));
    }
}

#[test]
fn node_with_capacity_quantities_and_addresses() {
    let node = core::Node {
        metadata: Some(go_meta("node-a", "")),
        spec: Some(core::NodeSpec {
            pod_cidr: s("10.244.0.0/24"),
            pod_cid_rs: vec!["10.244.0.0/24".to_string()],
            unschedulable: Some(false),
            ..Default::default()
        }),
        status: Some(core::NodeStatus {
            capacity: [(
                "cpu".to_string(),
                k8s_pb::apimachinery::pkg::api::resource::Quantity { string: s("2") },
            )]
            .into_iter()
            .collect(),
            addresses: vec![core::NodeAddress {
                r#type: s("InternalIP"),
                address: s("10.0.0.1"),
            }],
            ..Default::default()
        }),
    };
    let json = decode_message("v1", "Node", &node);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-a"},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
            "status": {"capacity": {"cpu": "2"}, "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}
        }),
    );
    let _: k8s_openapi::api::core::v1::Node = typed(&json);
}
