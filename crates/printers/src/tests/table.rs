//! Column sets, their JSON form, and the generic printers.

use super::{ago, now, text};
use crate::{cells, column_definitions_json, columns};
use peapod_apimachinery::gvk::kinds::*;
use peapod_apimachinery::Gvk;
use serde_json::json;

const ALL: [Gvk; 20] = [
    POD,
    NODE,
    NAMESPACE,
    CONFIG_MAP,
    SECRET,
    SERVICE_ACCOUNT,
    EVENT,
    SERVICE,
    ENDPOINTS,
    REPLICATION_CONTROLLER,
    EVENTS_V1_EVENT,
    LEASE,
    DEPLOYMENT,
    REPLICA_SET,
    DAEMON_SET,
    STATEFUL_SET,
    CONTROLLER_REVISION,
    JOB,
    CRON_JOB,
    POD_PRESET,
];

fn names(gvk: Gvk, priority: i32) -> Vec<&'static str> {
    columns(gvk)
        .iter()
        .filter(|c| c.priority == priority)
        .map(|c| c.name)
        .collect()
}

#[test]
fn normal_and_wide_columns_match_kubernetes() {
    assert_eq!(
        names(POD, 0),
        ["Name", "Ready", "Status", "Restarts", "Age"]
    );
    assert_eq!(
        names(POD, 1),
        ["IP", "Node", "Nominated Node", "Readiness Gates"]
    );
    assert_eq!(
        names(NODE, 0),
        ["Name", "Status", "Roles", "Age", "Version"]
    );
    assert_eq!(
        names(NODE, 1),
        [
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    assert_eq!(
        names(DEPLOYMENT, 0),
        ["Name", "Ready", "Up-to-date", "Available", "Age"]
    );
    assert_eq!(names(DEPLOYMENT, 1), ["Containers", "Images", "Selector"]);
    for replicas in [REPLICA_SET, REPLICATION_CONTROLLER] {
        assert_eq!(
            names(replicas, 0),
            ["Name", "Desired", "Current", "Ready", "Age"]
        );
        assert_eq!(names(replicas, 1), ["Containers", "Images", "Selector"]);
    }
    assert_eq!(
        names(DAEMON_SET, 0),
        [
            "Name",
            "Desired",
            "Current",
            "Ready",
            "Up-to-date",
            "Available",
            "Node Selector",
            "Age"
        ]
    );
    assert_eq!(
        names(JOB, 0),
        ["Name", "Status", "Completions", "Duration", "Age"]
    );
    assert_eq!(
        names(CRON_JOB, 0),
        [
            "Name",
            "Schedule",
            "Timezone",
            "Suspend",
            "Active",
            "Last Schedule",
            "Age"
        ]
    );
    assert_eq!(
        names(EVENT, 0),
        ["Last Seen", "Type", "Reason", "Object", "Message"]
    );
    assert_eq!(
        names(EVENT, 1),
        ["Subobject", "Source", "First Seen", "Count", "Name"]
    );
    assert_eq!(
        names(SERVICE, 0),
        [
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age"
        ]
    );
    assert_eq!(names(SERVICE, 1), ["Selector"]);
    assert_eq!(names(POD_PRESET, 0), ["Name", "Age"]);
}

#[test]
fn every_kind_has_one_name_column_and_a_cell_per_column() {
    for gvk in ALL {
        let cols = columns(gvk);
        assert_eq!(
            cols.iter().filter(|c| c.format == "name").count(),
            1,
            "{gvk}"
        );
        for obj in [
            json!({}),
            json!(null),
            json!([1, 2]),
            json!({"metadata": {"name": "x", "creationTimestamp": ago(5)}}),
        ] {
            assert_eq!(cells(gvk, &obj, now()).len(), cols.len(), "{gvk} {obj}");
        }
    }
}

#[test]
fn column_definitions_json_shape() {
    let defs = column_definitions_json(POD);
    let defs = defs.as_array().expect("an array");
    assert_eq!(defs.len(), 9);
    assert_eq!(defs[0]["name"], "Name");
    assert_eq!(defs[0]["type"], "string");
    assert_eq!(defs[0]["format"], "name");
    assert_eq!(defs[0]["priority"], 0);
    assert!(defs[0]["description"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    assert_eq!(defs[3]["name"], "Restarts");
    assert_eq!(defs[3]["type"], "integer");
    assert_eq!(defs[3]["format"], "");
    assert_eq!(defs[5]["name"], "IP");
    assert_eq!(defs[5]["priority"], 1);
}

#[test]
fn pod_preset_prints_name_and_age() {
    let pp = json!({"metadata": {"name": "inject", "creationTimestamp": ago(7)}});
    assert_eq!(text(POD_PRESET, &pp, "Name"), "inject");
    assert_eq!(text(POD_PRESET, &pp, "Age"), "7s");
}

#[test]
fn unknown_kinds_use_the_generic_name_and_created_at() {
    let gvk = Gvk::new("rbac.authorization.k8s.io", "v1", "Role");
    let cols = columns(gvk);
    assert_eq!(
        cols.iter().map(|c| c.name).collect::<Vec<_>>(),
        ["Name", "Created At"]
    );
    assert_eq!(cols[1].type_, "date");
    let role = json!({"metadata": {"name": "reader", "creationTimestamp": "2024-06-01T08:30:00Z"}});
    assert_eq!(text(gvk, &role, "Created At"), "2024-06-01T08:30:00Z");
    assert_eq!(text(gvk, &json!({}), "Created At"), "0001-01-01T00:00:00Z");
}

#[test]
fn version_does_not_change_the_printer() {
    let beta = Gvk::new("batch", "v1beta1", "CronJob");
    assert_eq!(columns(beta), columns(CRON_JOB));
}
