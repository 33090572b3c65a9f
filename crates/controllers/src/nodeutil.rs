//! Node facts shared by the DaemonSet and node lifecycle controllers: the taint keys and
//! effects they use, a node's taints and name, and its conditions. Matching taints against
//! tolerations and nodes against selectors lives in `peapod_apimachinery::placement`.

use k8s_openapi::api::core::v1::{Node, Taint};

pub use peapod_apimachinery::well_known::{
    TAINT_NOT_READY as NOT_READY, TAINT_UNREACHABLE as UNREACHABLE,
    TAINT_UNSCHEDULABLE as UNSCHEDULABLE,
};
pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
pub const NO_EXECUTE: &str = "NoExecute";
pub const NO_SCHEDULE: &str = "NoSchedule";

pub fn taints(node: &Node) -> &[Taint] {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

pub fn node_name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or_default()
}

/// The node's condition of `type_` ("True", "False", "Unknown"), if it reported one.
pub fn condition_status<'a>(node: &'a Node, type_: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}
