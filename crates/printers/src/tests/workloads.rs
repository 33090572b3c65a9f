use super::{ago, cell, text};
use peapod_apimachinery::gvk::kinds::{
    CONTROLLER_REVISION, DAEMON_SET, DEPLOYMENT, REPLICATION_CONTROLLER, REPLICA_SET, STATEFUL_SET,
};
use serde_json::{json, Value};

fn template() -> Value {
    json!({"spec": {"containers": [
        {"name": "web", "image": "nginx:1.27"},
        {"name": "log", "image": "busybox"},
    ]}})
}

fn workload(name: &str, spec: Value, status: Value) -> Value {
    json!({"metadata": {"name": name, "creationTimestamp": ago(300)}, "spec": spec, "status": status})
}

#[test]
fn deployment_row() {
    let d = workload(
        "api",
        json!({"replicas": 3, "selector": {"matchLabels": {"app": "api", "tier": "be"}}, "template": template()}),
        json!({"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}),
    );
    assert_eq!(text(DEPLOYMENT, &d, "Name"), "api");
    assert_eq!(text(DEPLOYMENT, &d, "Ready"), "2/3");
    assert_eq!(cell(DEPLOYMENT, &d, "Up-to-date"), json!(3));
    assert_eq!(cell(DEPLOYMENT, &d, "Available"), json!(2));
    assert_eq!(text(DEPLOYMENT, &d, "Age"), "5m");
    assert_eq!(text(DEPLOYMENT, &d, "Containers"), "web,log");
    assert_eq!(text(DEPLOYMENT, &d, "Images"), "nginx:1.27,busybox");
    assert_eq!(text(DEPLOYMENT, &d, "Selector"), "app=api,tier=be");
}

#[test]
fn deployment_without_status_or_replicas_defaults_to_one_desired() {
    let d = workload("api", json!({"template": template()}), json!(null));
    assert_eq!(text(DEPLOYMENT, &d, "Ready"), "0/1");
    assert_eq!(cell(DEPLOYMENT, &d, "Available"), json!(0));
    assert_eq!(text(DEPLOYMENT, &d, "Selector"), "");
}

#[test]
fn selector_with_expressions_sorted_by_key() {
    let d = workload(
        "api",
        json!({"selector": {
            "matchLabels": {"zone": "a"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "app", "operator": "Exists"},
            ],
        }}),
        json!({}),
    );
    assert_eq!(
        text(DEPLOYMENT, &d, "Selector"),
        "app,!canary,env notin (dev),tier in (be,fe),zone=a"
    );
}

#[test]
fn malformed_selectors_are_flagged() {
    let bad = json!({"selector": {"matchExpressions": [{"key": "x", "operator": "Near"}]}});
    assert_eq!(
        text(
            DEPLOYMENT,
            &workload("d", bad.clone(), json!({})),
            "Selector"
        ),
        "<error>"
    );
    assert_eq!(
        text(REPLICA_SET, &workload("r", bad, json!({})), "Selector"),
        "<error>"
    );
}

#[test]
fn replica_set_row() {
    let rs = workload(
        "api-5d8f",
        json!({"replicas": 2, "selector": {"matchLabels": {"app": "api"}}, "template": template()}),
        json!({"replicas": 2, "readyReplicas": 1}),
    );
    assert_eq!(cell(REPLICA_SET, &rs, "Desired"), json!(2));
    assert_eq!(cell(REPLICA_SET, &rs, "Current"), json!(2));
    assert_eq!(cell(REPLICA_SET, &rs, "Ready"), json!(1));
    assert_eq!(text(REPLICA_SET, &rs, "Selector"), "app=api");
    let empty = workload("x", json!({}), json!({}));
    assert_eq!(text(REPLICA_SET, &empty, "Selector"), "<none>");
    assert_eq!(text(REPLICA_SET, &empty, "Containers"), "");
}

#[test]
fn replication_controller_row() {
    let rc = workload(
        "web",
        json!({"replicas": 3, "selector": {"tier": "fe", "app": "web"}, "template": template()}),
        json!({"replicas": 2, "readyReplicas": 1}),
    );
    assert_eq!(cell(REPLICATION_CONTROLLER, &rc, "Desired"), json!(3));
    assert_eq!(cell(REPLICATION_CONTROLLER, &rc, "Current"), json!(2));
    assert_eq!(cell(REPLICATION_CONTROLLER, &rc, "Ready"), json!(1));
    assert_eq!(text(REPLICATION_CONTROLLER, &rc, "Age"), "5m");
    assert_eq!(text(REPLICATION_CONTROLLER, &rc, "Containers"), "web,log");
    assert_eq!(
        text(REPLICATION_CONTROLLER, &rc, "Images"),
        "nginx:1.27,busybox"
    );
    assert_eq!(
        text(REPLICATION_CONTROLLER, &rc, "Selector"),
        "app=web,tier=fe"
    );
    let empty = workload("x", json!({}), json!({}));
    assert_eq!(text(REPLICATION_CONTROLLER, &empty, "Selector"), "<none>");
    assert_eq!(cell(REPLICATION_CONTROLLER, &empty, "Desired"), json!(1));
}

#[test]
fn daemon_set_row() {
    let mut tpl = template();
    tpl["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux", "disk": "ssd"});
    let ds = workload(
        "agent",
        json!({"selector": {"matchLabels": {"app": "agent"}}, "template": tpl}),
        json!({"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
               "updatedNumberScheduled": 1, "numberAvailable": 2}),
    );
    assert_eq!(cell(DAEMON_SET, &ds, "Desired"), json!(3));
    assert_eq!(cell(DAEMON_SET, &ds, "Current"), json!(3));
    assert_eq!(cell(DAEMON_SET, &ds, "Ready"), json!(2));
    assert_eq!(cell(DAEMON_SET, &ds, "Up-to-date"), json!(1));
    assert_eq!(cell(DAEMON_SET, &ds, "Available"), json!(2));
    assert_eq!(
        text(DAEMON_SET, &ds, "Node Selector"),
        "disk=ssd,kubernetes.io/os=linux"
    );
    assert_eq!(text(DAEMON_SET, &ds, "Selector"), "app=agent");
    let plain = workload("agent", json!({"template": template()}), json!({}));
    assert_eq!(text(DAEMON_SET, &plain, "Node Selector"), "<none>");
}

#[test]
fn stateful_set_row() {
    let ss = workload(
        "db",
        json!({"replicas": 3, "template": template()}),
        json!({"readyReplicas": 3}),
    );
    assert_eq!(text(STATEFUL_SET, &ss, "Ready"), "3/3");
    assert_eq!(text(STATEFUL_SET, &ss, "Images"), "nginx:1.27,busybox");
    assert_eq!(crate::columns(STATEFUL_SET).len(), 5);
}

#[test]
fn controller_revision_row() {
    let mut cr = json!({
        "metadata": {"name": "agent-6c9d", "creationTimestamp": ago(60), "ownerReferences": [
            {"apiVersion": "v1", "kind": "Pod", "name": "other", "uid": "1"},
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "2", "controller": true},
        ]},
        "revision": 4,
    });
    assert_eq!(
        text(CONTROLLER_REVISION, &cr, "Controller"),
        "daemonset.apps/agent"
    );
    assert_eq!(cell(CONTROLLER_REVISION, &cr, "Revision"), json!(4));
    cr["metadata"]["ownerReferences"] = json!([]);
    assert_eq!(text(CONTROLLER_REVISION, &cr, "Controller"), "<none>");
    cr["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "Node", "name": "n", "controller": true}]);
    assert_eq!(text(CONTROLLER_REVISION, &cr, "Controller"), "node/n");
}
