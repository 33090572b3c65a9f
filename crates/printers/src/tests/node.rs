use super::{ago, text};
use peapod_apimachinery::gvk::kinds::NODE;
use serde_json::{json, Value};

fn node(labels: Value, spec: Value, status: Value) -> Value {
    json!({
        "metadata": {"name": "node1", "labels": labels, "creationTimestamp": ago(3 * 86400)},
        "spec": spec,
        "status": status,
    })
}

fn with_ready(status: &str) -> Value {
    json!({"conditions": [
        {"type": "MemoryPressure", "status": "False"},
        {"type": "Ready", "status": status},
    ]})
}

#[test]
fn ready_node() {
    let n = node(json!({}), json!({}), with_ready("True"));
    assert_eq!(text(NODE, &n, "Status"), "Ready");
    assert_eq!(text(NODE, &n, "Age"), "3d");
    assert_eq!(text(NODE, &n, "Name"), "node1");
}

#[test]
fn not_ready_for_false_and_unknown_condition() {
    assert_eq!(
        text(
            NODE,
            &node(json!({}), json!({}), with_ready("False")),
            "Status"
        ),
        "NotReady"
    );
    assert_eq!(
        text(
            NODE,
            &node(json!({}), json!({}), with_ready("Unknown")),
            "Status"
        ),
        "NotReady"
    );
}

#[test]
fn unknown_without_ready_condition() {
    let n = node(
        json!({}),
        json!({}),
        json!({"conditions": [{"type": "DiskPressure", "status": "False"}]}),
    );
    assert_eq!(text(NODE, &n, "Status"), "Unknown");
}

#[test]
fn cordoned_nodes_add_scheduling_disabled() {
    let n = node(
        json!({}),
        json!({"unschedulable": true}),
        with_ready("True"),
    );
    assert_eq!(text(NODE, &n, "Status"), "Ready,SchedulingDisabled");
    let n = node(json!({}), json!({"unschedulable": true}), json!({}));
    assert_eq!(text(NODE, &n, "Status"), "Unknown,SchedulingDisabled");
}

#[test]
fn roles_from_labels_sorted_and_deduplicated() {
    let n = node(
        json!({
            "node-role.kubernetes.io/worker": "",
            "node-role.kubernetes.io/control-plane": "",
            "node-role.kubernetes.io/": "ignored",
            "kubernetes.io/role": "worker",
            "kubernetes.io/hostname": "node1",
        }),
        json!({}),
        with_ready("True"),
    );
    assert_eq!(text(NODE, &n, "Roles"), "control-plane,worker");
    assert_eq!(
        text(
            NODE,
            &node(json!({"a": "b"}), json!({}), json!({})),
            "Roles"
        ),
        "<none>"
    );
}

#[test]
fn version_and_wide_system_info() {
    let n = node(
        json!({}),
        json!({}),
        json!({
            "addresses": [
                {"type": "Hostname", "address": "node1"},
                {"type": "InternalIP", "address": "10.0.0.5"},
                {"type": "InternalIP", "address": "10.0.0.6"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.33.1",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-30-amd64",
                "containerRuntimeVersion": "peapod://0.1.0",
            },
        }),
    );
    assert_eq!(text(NODE, &n, "Version"), "v1.33.1");
    assert_eq!(text(NODE, &n, "Internal-IP"), "10.0.0.5");
    assert_eq!(text(NODE, &n, "External-IP"), "<none>");
    assert_eq!(text(NODE, &n, "OS-Image"), "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(text(NODE, &n, "Kernel-Version"), "6.1.0-30-amd64");
    assert_eq!(text(NODE, &n, "Container-Runtime"), "peapod://0.1.0");
}

#[test]
fn missing_system_info_is_unknown() {
    let n = node(json!({}), json!({}), json!({}));
    assert_eq!(text(NODE, &n, "Version"), "");
    assert_eq!(text(NODE, &n, "OS-Image"), "<unknown>");
    assert_eq!(text(NODE, &n, "Kernel-Version"), "<unknown>");
    assert_eq!(text(NODE, &n, "Container-Runtime"), "<unknown>");
    assert_eq!(text(NODE, &n, "Internal-IP"), "<none>");
}
