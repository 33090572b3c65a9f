//! Group/version/kind identity of the API types peapod serves.

use std::fmt;

/// Identifies an API type. Every served type is known at compile time, so the parts are static.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gvk {
    /// API group; "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

impl Gvk {
    pub const fn new(group: &'static str, version: &'static str, kind: &'static str) -> Self {
        Gvk {
            group,
            version,
            kind,
        }
    }

    /// The `apiVersion` string: "v1" for the core group, "apps/v1" otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True when this is `kind` in `group` (any version).
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// Well-known types, for matching in policy code.
pub mod kinds {
    use super::Gvk;
    pub const POD: Gvk = Gvk::new("", "v1", "Pod");
    pub const NODE: Gvk = Gvk::new("", "v1", "Node");
    pub const NAMESPACE: Gvk = Gvk::new("", "v1", "Namespace");
    pub const CONFIG_MAP: Gvk = Gvk::new("", "v1", "ConfigMap");
    pub const SECRET: Gvk = Gvk::new("", "v1", "Secret");
    pub const SERVICE_ACCOUNT: Gvk = Gvk::new("", "v1", "ServiceAccount");
    pub const EVENT: Gvk = Gvk::new("", "v1", "Event");
    pub const SERVICE: Gvk = Gvk::new("", "v1", "Service");
    pub const ENDPOINTS: Gvk = Gvk::new("", "v1", "Endpoints");
    pub const REPLICATION_CONTROLLER: Gvk = Gvk::new("", "v1", "ReplicationController");
    pub const EVENTS_V1_EVENT: Gvk = Gvk::new("events.k8s.io", "v1", "Event");
    pub const LEASE: Gvk = Gvk::new("coordination.k8s.io", "v1", "Lease");
    pub const DEPLOYMENT: Gvk = Gvk::new("apps", "v1", "Deployment");
    pub const REPLICA_SET: Gvk = Gvk::new("apps", "v1", "ReplicaSet");
    pub const DAEMON_SET: Gvk = Gvk::new("apps", "v1", "DaemonSet");
    pub const STATEFUL_SET: Gvk = Gvk::new("apps", "v1", "StatefulSet");
    pub const CONTROLLER_REVISION: Gvk = Gvk::new("apps", "v1", "ControllerRevision");
    pub const JOB: Gvk = Gvk::new("batch", "v1", "Job");
    pub const CRON_JOB: Gvk = Gvk::new("batch", "v1", "CronJob");
    pub const POD_PRESET: Gvk = Gvk::new("settings.k8s.io", "v1alpha1", "PodPreset");
}
