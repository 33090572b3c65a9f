//! Server-side defaulting (on create and update), strategy preparation on create, and the
//! defaults Kubernetes' admission plugins add to Pods.

mod admission;
mod core_kinds;
mod create;
pub mod image;
mod pod_spec;
mod qos;
mod workloads;

#[cfg(test)]
mod tests;

pub use admission::admit_pod;
pub use create::{JOB_CONTROLLER_UID, JOB_NAME};
pub use qos::pod_qos_class;

use crate::json::child_obj;
use peapod_apimachinery::gvk::kinds;
use peapod_apimachinery::Gvk;
use serde_json::Value;

/// Applies Kubernetes API defaults for `gvk` in place. Idempotent; runs on create and update.
pub fn apply_defaults(gvk: Gvk, obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    match gvk {
        g if g == kinds::POD => {
            if let Some(s) = child_obj(o, "spec") {
                pod_spec::default_pod_spec(s, true);
            }
        }
        g if g == kinds::DEPLOYMENT => with_spec(o, workloads::default_deployment),
        g if g == kinds::REPLICA_SET => with_spec(o, workloads::default_replica_set),
        g if g == kinds::REPLICATION_CONTROLLER => workloads::default_replication_controller(o),
        g if g == kinds::DAEMON_SET => with_spec(o, workloads::default_daemon_set),
        g if g == kinds::STATEFUL_SET => with_spec(o, workloads::default_stateful_set),
        g if g == kinds::JOB => workloads::default_job(o),
        g if g == kinds::CRON_JOB => with_spec(o, workloads::default_cron_job),
        g if g == kinds::SERVICE => with_spec(o, core_kinds::default_service),
        g if g == kinds::SECRET => core_kinds::default_secret(o),
        g if g == kinds::NAMESPACE => core_kinds::default_namespace(o),
        g if g == kinds::NODE => core_kinds::default_node(o),
        g if g == kinds::ENDPOINTS => core_kinds::default_endpoints(o),
        g if g == kinds::POD_PRESET => with_spec(o, core_kinds::default_pod_preset),
        _ => {}
    }
}

fn with_spec(o: &mut serde_json::Map<String, Value>, f: fn(&mut serde_json::Map<String, Value>)) {
    if let Some(s) = child_obj(o, "spec") {
        f(s);
    }
}

/// The registry strategy's create-time preparation (runs after `apply_defaults`, with
/// `metadata.uid` and `metadata.name` already set).
pub fn prepare_for_create(gvk: Gvk, obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    match gvk {
        g if g == kinds::POD => create::prepare_pod(o),
        g if g == kinds::NAMESPACE => create::prepare_namespace(o),
        g if g == kinds::SERVICE => create::prepare_service(o),
        g if g == kinds::JOB => create::prepare_job(o),
        g if g == kinds::DEPLOYMENT || g == kinds::CRON_JOB => create::reset_status(o, &[]),
        g if g == kinds::REPLICA_SET || g == kinds::REPLICATION_CONTROLLER => {
            create::reset_status(o, &["replicas"])
        }
        g if g == kinds::STATEFUL_SET => {
            create::reset_status(o, &["replicas", "availableReplicas"])
        }
        g if g == kinds::DAEMON_SET => create::reset_status(
            o,
            &[
                "currentNumberScheduled",
                "numberMisscheduled",
                "desiredNumberScheduled",
                "numberReady",
            ],
        ),
        _ => {}
    }
}
