//! Server-side Table conversion for kubectl.
//!
//! kubectl 1.32+ has no client-side printers for most built-in types: it asks the
//! server for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the
//! Table's columns and cells verbatim. This crate produces those columns and
//! cells the way Kubernetes' own server-side printers do. The server always
//! fills the wide (priority 1) cells; kubectl hides them unless `-o wide`.
//!
//! Objects are read as `serde_json::Value` and missing or malformed fields fall
//! back to defaults, so printing never fails.

mod access;
mod batch;
mod column;
mod containers;
mod core;
mod duration;
mod event;
mod fallback;
mod node;
mod pod;
mod selectors;
mod service;
mod workloads;

pub use column::Column;
pub use duration::human_duration;

use chrono::{DateTime, Utc};
use peapod_apimachinery::Gvk;
use serde_json::Value;

/// Which printer handles a type. Matching ignores the version: every served
/// version of a kind prints the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Printer {
    Pod,
    Node,
    Namespace,
    ConfigMap,
    Secret,
    ServiceAccount,
    Service,
    Endpoints,
    CoreEvent,
    EventsV1Event,
    Lease,
    Deployment,
    ReplicaSet,
    ReplicationController,
    DaemonSet,
    StatefulSet,
    ControllerRevision,
    Job,
    CronJob,
    NameAge,
    Default,
}

fn printer_for(gvk: Gvk) -> Printer {
    match (gvk.group, gvk.kind) {
        ("", "Pod") => Printer::Pod,
        ("", "Node") => Printer::Node,
        ("", "Namespace") => Printer::Namespace,
        ("", "ConfigMap") => Printer::ConfigMap,
        ("", "Secret") => Printer::Secret,
        ("", "ServiceAccount") => Printer::ServiceAccount,
        ("", "Service") => Printer::Service,
        ("", "Endpoints") => Printer::Endpoints,
        ("", "ReplicationController") => Printer::ReplicationController,
        ("", "Event") => Printer::CoreEvent,
        ("events.k8s.io", "Event") => Printer::EventsV1Event,
        ("coordination.k8s.io", "Lease") => Printer::Lease,
        ("apps", "Deployment") => Printer::Deployment,
        ("apps", "ReplicaSet") => Printer::ReplicaSet,
        ("apps", "DaemonSet") => Printer::DaemonSet,
        ("apps", "StatefulSet") => Printer::StatefulSet,
        ("apps", "ControllerRevision") => Printer::ControllerRevision,
        ("batch", "Job") => Printer::Job,
        ("batch", "CronJob") => Printer::CronJob,
        ("settings.k8s.io", "PodPreset") => Printer::NameAge,
        _ => Printer::Default,
    }
}

/// The Table columns for `gvk`, normal columns and wide (priority 1) ones, in the
/// order their cells appear.
pub fn columns(gvk: Gvk) -> Vec<Column> {
    match printer_for(gvk) {
        Printer::Pod => pod::columns(),
        Printer::Node => node::columns(),
        Printer::Namespace => core::namespace_columns(),
        Printer::ConfigMap => core::config_map_columns(),
        Printer::Secret => core::secret_columns(),
        Printer::ServiceAccount => core::service_account_columns(),
        Printer::Service => service::service_columns(),
        Printer::Endpoints => service::endpoints_columns(),
        Printer::CoreEvent | Printer::EventsV1Event => event::columns(),
        Printer::Lease => core::lease_columns(),
        Printer::Deployment => workloads::deployment_columns(),
        Printer::ReplicaSet | Printer::ReplicationController => workloads::replica_set_columns(),
        Printer::DaemonSet => workloads::daemon_set_columns(),
        Printer::StatefulSet => workloads::stateful_set_columns(),
        Printer::ControllerRevision => workloads::controller_revision_columns(),
        Printer::Job => batch::job_columns(),
        Printer::CronJob => batch::cron_job_columns(),
        Printer::NameAge => fallback::name_age_columns(),
        Printer::Default => fallback::default_columns(),
    }
}

/// One row's cells for `obj` (of type `gvk`), one per entry of [`columns`].
/// `now` is the reference time for Age-like cells.
pub fn cells(gvk: Gvk, obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    match printer_for(gvk) {
        Printer::Pod => pod::cells(obj, now),
        Printer::Node => node::cells(obj, now),
        Printer::Namespace => core::namespace_cells(obj, now),
        Printer::ConfigMap => core::config_map_cells(obj, now),
        Printer::Secret => core::secret_cells(obj, now),
        Printer::ServiceAccount => core::service_account_cells(obj, now),
        Printer::Service => service::service_cells(obj, now),
        Printer::Endpoints => service::endpoints_cells(obj, now),
        Printer::CoreEvent => event::core_cells(obj, now),
        Printer::EventsV1Event => event::events_v1_cells(obj, now),
        Printer::Lease => core::lease_cells(obj, now),
        Printer::Deployment => workloads::deployment_cells(obj, now),
        Printer::ReplicaSet => workloads::replica_set_cells(obj, now),
        Printer::ReplicationController => workloads::replication_controller_cells(obj, now),
        Printer::DaemonSet => workloads::daemon_set_cells(obj, now),
        Printer::StatefulSet => workloads::stateful_set_cells(obj, now),
        Printer::ControllerRevision => workloads::controller_revision_cells(obj, now),
        Printer::Job => batch::job_cells(obj, now),
        Printer::CronJob => batch::cron_job_cells(obj, now),
        Printer::NameAge => fallback::name_age_cells(obj, now),
        Printer::Default => fallback::default_cells(obj),
    }
}

/// The Table's `columnDefinitions` array for `gvk`.
pub fn column_definitions_json(gvk: Gvk) -> Value {
    Value::Array(columns(gvk).iter().map(Column::to_json).collect())
}

/// The optional `conditions` of a Table row. Kubernetes marks Succeeded and
/// Failed pods as `{"type":"Completed","status":"True",..}`; other rows have none.
pub fn row_conditions(gvk: Gvk, obj: &Value) -> Option<Value> {
    match printer_for(gvk) {
        Printer::Pod => pod::row_conditions(obj),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
