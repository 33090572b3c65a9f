//! Node rows: readiness, schedulability, roles and system info.

use crate::access::{at, bool_at, list_at, name, str_at, time_at};
use crate::column::{col, wide, Column, AGE, NAME};
use crate::duration::since;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";
const LEGACY_ROLE_LABEL: &str = "kubernetes.io/role";

pub(crate) fn columns() -> Vec<Column> {
    vec![
        NAME,
        col("Status", "string", "The status of the node"),
        col("Roles", "string", "The roles of the node"),
        AGE,
        col("Version", "string", "Kubelet version reported by the node."),
        wide(
            "Internal-IP",
            "string",
            "The node's first InternalIP address.",
        ),
        wide(
            "External-IP",
            "string",
            "The node's first ExternalIP address.",
        ),
        wide("OS-Image", "string", "OS image reported by the node."),
        wide(
            "Kernel-Version",
            "string",
            "Kernel version reported by the node.",
        ),
        wide(
            "Container-Runtime",
            "string",
            "Container runtime name and version reported by the node.",
        ),
    ]
}

pub(crate) fn cells(node: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let info = |field: &str| match str_at(node, &["status", "nodeInfo", field]) {
        "" => "<unknown>".to_string(),
        v => v.to_string(),
    };
    vec![
        json!(name(node)),
        json!(status(node)),
        json!(roles(node)),
        json!(since(
            time_at(node, &["metadata", "creationTimestamp"]),
            now
        )),
        json!(str_at(node, &["status", "nodeInfo", "kubeletVersion"])),
        json!(address(node, "InternalIP")),
        json!(address(node, "ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

/// "Ready" / "NotReady" from the Ready condition (the last one of that type wins),
/// "Unknown" without one, plus ",SchedulingDisabled" when cordoned.
fn status(node: &Value) -> String {
    let ready = list_at(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready");
    let mut parts = vec![match ready {
        Some(c) if str_at(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if bool_at(node, &["spec", "unschedulable"]) {
        parts.push("SchedulingDisabled");
    }
    parts.join(",")
}

/// Sorted, de-duplicated roles from `node-role.kubernetes.io/<role>` label keys and
/// the legacy `kubernetes.io/role` label value; "<none>" without any.
fn roles(node: &Value) -> String {
    let mut roles = BTreeSet::new();
    if let Some(labels) = at(node, &["metadata", "labels"]).and_then(Value::as_object) {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix(ROLE_LABEL_PREFIX) {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if key == LEGACY_ROLE_LABEL {
                if let Some(role) = value.as_str().filter(|r| !r.is_empty()) {
                    roles.insert(role.to_string());
                }
            }
        }
    }
    if roles.is_empty() {
        return "<none>".to_string();
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

/// The first address of the given type, "<none>" if there is none.
fn address(node: &Value, type_: &str) -> String {
    list_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == type_)
        .map(|a| str_at(a, &["address"]).to_string())
        .unwrap_or_else(|| "<none>".to_string())
}
