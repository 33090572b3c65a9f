//! API defaults for apps/v1 and batch/v1 workloads, and core/v1's ReplicationController.

use super::pod_spec::default_pod_template;
use crate::json::{child_obj, default_str, default_value, each_obj_mut, existing_obj};
use serde_json::{json, Map, Value};

fn template(spec: &mut Map<String, Value>) {
    if let Some(tpl) = child_obj(spec, "template") {
        default_pod_template(tpl);
    }
}

pub fn default_deployment(spec: &mut Map<String, Value>) {
    default_value(spec, "replicas", json!(1));
    if let Some(strategy) = child_obj(spec, "strategy") {
        default_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            if let Some(ru) = child_obj(strategy, "rollingUpdate") {
                default_value(ru, "maxUnavailable", json!("25%"));
                default_value(ru, "maxSurge", json!("25%"));
            }
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    default_value(spec, "progressDeadlineSeconds", json!(600));
    template(spec);
}

pub fn default_replica_set(spec: &mut Map<String, Value>) {
    default_value(spec, "replicas", json!(1));
    template(spec);
}

/// SetDefaults_ReplicationController: an empty selector, and empty object labels, are taken
/// from the pod template's labels. Without template labels nothing is derived, so validation
/// reports the missing selector.
pub fn default_replication_controller(rc: &mut Map<String, Value>) {
    let Some(spec) = child_obj(rc, "spec") else {
        return;
    };
    default_value(spec, "replicas", json!(1));
    // The template is a pointer upstream: a missing one stays missing (and is refused).
    if let Some(tpl) = existing_obj(spec, "template") {
        default_pod_template(tpl);
    }
    let tpl_labels = non_empty_template_labels(spec);
    if let Some(labels) = &tpl_labels {
        let no_selector = spec
            .get("selector")
            .is_none_or(|s| s.as_object().is_none_or(Map::is_empty));
        if no_selector {
            spec.insert("selector".into(), labels.clone());
        }
    }
    copy_labels_if_empty(rc, tpl_labels);
}

fn non_empty_template_labels(spec: &Map<String, Value>) -> Option<Value> {
    spec.get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned()
}

pub fn default_daemon_set(spec: &mut Map<String, Value>) {
    if let Some(strategy) = child_obj(spec, "updateStrategy") {
        default_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            if let Some(ru) = child_obj(strategy, "rollingUpdate") {
                default_value(ru, "maxUnavailable", json!(1));
                default_value(ru, "maxSurge", json!(0));
            }
        }
    }
    default_value(spec, "revisionHistoryLimit", json!(10));
    template(spec);
}

pub fn default_stateful_set(spec: &mut Map<String, Value>) {
    default_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = child_obj(spec, "updateStrategy") {
        default_str(strategy, "type", "RollingUpdate");
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            if let Some(ru) = child_obj(strategy, "rollingUpdate") {
                default_value(ru, "partition", json!(0));
            }
        }
    }
    default_value(spec, "replicas", json!(1));
    default_value(spec, "revisionHistoryLimit", json!(10));
    if let Some(policy) = child_obj(spec, "persistentVolumeClaimRetentionPolicy") {
        default_str(policy, "whenDeleted", "Retain");
        default_str(policy, "whenScaled", "Retain");
    }
    for pvc in each_obj_mut(spec, "volumeClaimTemplates") {
        if let Some(pvc_spec) = existing_obj(pvc, "spec") {
            default_str(pvc_spec, "volumeMode", "Filesystem");
        }
        if let Some(status) = child_obj(pvc, "status") {
            default_str(status, "phase", "Pending");
        }
    }
    template(spec);
}

/// SetDefaults_Job: runs for Jobs (not for a CronJob's jobTemplate).
pub fn default_job(job: &mut Map<String, Value>) {
    let Some(spec) = child_obj(job, "spec") else {
        return;
    };
    let unset = |s: &Map<String, Value>, k: &str| s.get(k).is_none_or(Value::is_null);
    // A non-parallel job may leave both unset; then both become 1.
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default_value(spec, "parallelism", json!(1));
    let backoff = if unset(spec, "backoffLimitPerIndex") {
        6
    } else {
        i32::MAX as i64
    };
    default_value(spec, "backoffLimit", json!(backoff));
    default_value(spec, "completionMode", json!("NonIndexed"));
    default_value(spec, "suspend", json!(false));
    default_value(spec, "manualSelector", json!(false));
    let replacement = if unset(spec, "podFailurePolicy") {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    default_value(spec, "podReplacementPolicy", json!(replacement));
    if let Some(pfp) = existing_obj(spec, "podFailurePolicy") {
        for rule in each_obj_mut(pfp, "rules") {
            for pattern in each_obj_mut(rule, "onPodConditions") {
                default_str(pattern, "status", "True");
            }
        }
    }
    template(spec);
    let tpl_labels = non_empty_template_labels(spec);
    copy_labels_if_empty(job, tpl_labels);
}

/// A Job or ReplicationController without labels of its own takes its pod template's labels.
pub fn copy_labels_if_empty(obj: &mut Map<String, Value>, labels: Option<Value>) {
    let Some(labels) = labels else { return };
    let Some(meta) = child_obj(obj, "metadata") else {
        return;
    };
    let empty = meta
        .get("labels")
        .is_none_or(|l| l.as_object().is_none_or(Map::is_empty));
    if empty {
        meta.insert("labels".into(), labels);
    }
}

pub fn default_cron_job(spec: &mut Map<String, Value>) {
    default_str(spec, "concurrencyPolicy", "Allow");
    default_value(spec, "suspend", json!(false));
    default_value(spec, "successfulJobsHistoryLimit", json!(3));
    default_value(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(jt) = child_obj(spec, "jobTemplate") {
        if let Some(job_spec) = child_obj(jt, "spec") {
            template(job_spec);
        }
    }
}
