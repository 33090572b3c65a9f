//! Validation of API objects on create and update, returning Kubernetes-style field causes.

mod apps;
mod batch;
mod config;
mod container;
mod cron;
mod env;
mod errors;
mod metadata;
mod misc;
pub mod names;
mod pod_spec;
mod pod_update;
mod replication;
mod selector;
mod service;
mod time_zone;
mod volumes;

#[cfg(test)]
mod tests;

pub use errors::FieldCause;

use errors::Errs;
use metadata::{validate_object_meta, validate_object_meta_update, NameRule};
use peapod_apimachinery::gvk::kinds;
use peapod_apimachinery::Gvk;
use serde_json::Value;

pub use cron::parse_schedule;

/// How `metadata.name` is checked and whether the kind lives in a namespace.
fn name_rule(gvk: Gvk) -> (NameRule, bool) {
    match gvk {
        g if g == kinds::NAMESPACE => (NameRule::Label, false),
        g if g == kinds::NODE => (NameRule::Subdomain, false),
        g if g == kinds::SERVICE => (NameRule::Dns1035, true),
        _ => (NameRule::Subdomain, true),
    }
}

/// Validates an object about to be created (after defaulting and `prepare_for_create`).
pub fn validate_create(gvk: Gvk, obj: &Value) -> Vec<FieldCause> {
    let mut errs = Errs::default();
    validate_object(gvk, obj, &mut errs);
    if gvk == kinds::POD
        && obj.get("spec").is_some_and(|s| {
            s.get("ephemeralContainers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        })
    {
        errs.forbidden("spec.ephemeralContainers", "cannot be set on create");
    }
    errs.0
}

fn validate_object(gvk: Gvk, obj: &Value, errs: &mut Errs) {
    if !obj.is_object() {
        errs.type_invalid("", errors::Shown::json(obj), "must be a JSON object");
        return;
    }
    let (rule, namespaced) = name_rule(gvk);
    validate_object_meta(obj, rule, namespaced, errs);
    match gvk {
        g if g == kinds::POD => {
            pod_spec::validate_pod_spec(obj.get("spec").unwrap_or(&Value::Null), "spec", true, errs)
        }
        g if g == kinds::DEPLOYMENT => apps::validate_deployment(obj, errs),
        g if g == kinds::REPLICA_SET => apps::validate_replica_set(obj, errs),
        g if g == kinds::REPLICATION_CONTROLLER => {
            replication::validate_replication_controller(obj, errs)
        }
        g if g == kinds::DAEMON_SET => apps::validate_daemon_set(obj, errs),
        g if g == kinds::STATEFUL_SET => apps::validate_stateful_set(obj, errs),
        g if g == kinds::CONTROLLER_REVISION => apps::validate_controller_revision(obj, errs),
        g if g == kinds::JOB => batch::validate_job(obj, errs),
        g if g == kinds::CRON_JOB => batch::validate_cron_job(obj, errs),
        g if g == kinds::CONFIG_MAP => config::validate_config_map(obj, errs),
        g if g == kinds::SECRET => config::validate_secret(obj, errs),
        g if g == kinds::SERVICE => service::validate_service(obj, errs),
        g if g == kinds::NAMESPACE => misc::validate_namespace(obj, errs),
        g if g == kinds::NODE => misc::validate_node(obj, errs),
        g if g == kinds::SERVICE_ACCOUNT => misc::validate_service_account(obj, errs),
        g if g == kinds::ENDPOINTS => misc::validate_endpoints(obj, errs),
        g if g == kinds::EVENT => misc::validate_core_event(obj, errs),
        g if g == kinds::EVENTS_V1_EVENT => misc::validate_events_v1(obj, errs),
        g if g == kinds::LEASE => misc::validate_lease(obj, errs),
        g if g == kinds::POD_PRESET => misc::validate_pod_preset(obj, errs),
        _ => {}
    }
}

/// Validates an update: the new object on its own, plus what may not change from `old`.
pub fn validate_update(gvk: Gvk, old: &Value, new: &Value) -> Vec<FieldCause> {
    let mut errs = Errs::default();
    validate_object(gvk, new, &mut errs);
    validate_object_meta_update(old, new, &mut errs);
    match gvk {
        g if g == kinds::POD => pod_update::validate_pod_update(old, new, &mut errs),
        g if g == kinds::DEPLOYMENT || g == kinds::REPLICA_SET || g == kinds::DAEMON_SET => {
            apps::validate_selector_immutable(old, new, &mut errs)
        }
        g if g == kinds::STATEFUL_SET => apps::validate_stateful_set_update(old, new, &mut errs),
        g if g == kinds::CONTROLLER_REVISION => {
            apps::validate_controller_revision_update(old, new, &mut errs)
        }
        g if g == kinds::JOB => batch::validate_job_update(old, new, &mut errs),
        g if g == kinds::CONFIG_MAP => {
            config::validate_immutable_update(old, new, &["data", "binaryData"], &mut errs)
        }
        g if g == kinds::SECRET => config::validate_secret_update(old, new, &mut errs),
        g if g == kinds::SERVICE => service::validate_service_update(old, new, &mut errs),
        g if g == kinds::POD_PRESET => misc::validate_pod_preset_update(old, new, &mut errs),
        _ => {}
    }
    errs.0
}
