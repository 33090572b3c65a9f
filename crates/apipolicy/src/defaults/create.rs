//! Registry strategy `PrepareForCreate`: what the server sets on a new object beyond API
//! defaults (initial status, generated selectors, namespace finalizers, service IP families).

use super::qos::pod_qos_class;
use super::workloads::copy_labels_if_empty;
use crate::json::child_obj;
use serde_json::{json, Map, Value};

pub const JOB_CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

pub fn prepare_pod(pod: &mut Map<String, Value>) {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let mut status = json!({"phase": "Pending", "qosClass": pod_qos_class(&spec)});
    let gated = spec
        .get("schedulingGates")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty());
    if gated {
        status["conditions"] = json!([{
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": null,
            "lastTransitionTime": null,
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }]);
    }
    pod.insert("status".into(), status);
}

/// A fresh status, with the fields Go serializes even when zero.
pub fn reset_status(obj: &mut Map<String, Value>, zero_fields: &[&str]) {
    let mut status = Map::new();
    for f in zero_fields {
        status.insert((*f).to_string(), json!(0));
    }
    obj.insert("status".into(), Value::Object(status));
}

pub fn prepare_namespace(ns: &mut Map<String, Value>) {
    if let Some(spec) = child_obj(ns, "spec") {
        let finalizers = spec.entry("finalizers").or_insert_with(|| json!([]));
        if !finalizers.is_array() {
            *finalizers = json!([]);
        }
        if let Some(list) = finalizers.as_array_mut() {
            if !list.iter().any(|f| f == "kubernetes") {
                list.push(json!("kubernetes"));
            }
        }
    }
    ns.insert("status".into(), json!({"phase": "Active"}));
}

pub fn prepare_service(svc: &mut Map<String, Value>) {
    let Some(spec) = child_obj(svc, "spec") else {
        return;
    };
    if spec.get("type").and_then(Value::as_str) != Some("ExternalName") {
        if spec.get("ipFamilyPolicy").is_none_or(Value::is_null) {
            spec.insert("ipFamilyPolicy".into(), json!("SingleStack"));
        }
        let families_empty = spec
            .get("ipFamilies")
            .is_none_or(|f| f.as_array().is_none_or(Vec::is_empty));
        if families_empty {
            spec.insert("ipFamilies".into(), json!(["IPv4"]));
        }
    }
    svc.insert("status".into(), json!({"loadBalancer": {}}));
}

/// Without `manualSelector`, the Job's selector and pod labels are derived from its uid.
pub fn prepare_job(job: &mut Map<String, Value>) {
    reset_status(job, &[]);
    let meta = job.get("metadata");
    let uid = meta
        .and_then(|m| m.get("uid"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(spec) = child_obj(job, "spec") else {
        return;
    };
    let manual = spec
        .get("manualSelector")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if manual || uid.is_empty() {
        return;
    }
    if let Some(labels) = child_obj(spec, "template")
        .and_then(|t| child_obj(t, "metadata"))
        .and_then(|m| child_obj(m, "labels"))
    {
        for (k, v) in [
            (JOB_CONTROLLER_UID, &uid),
            (JOB_NAME, &name),
            (LEGACY_CONTROLLER_UID, &uid),
            (LEGACY_JOB_NAME, &name),
        ] {
            labels.entry(k).or_insert_with(|| json!(v));
        }
        sort_map(labels);
    }
    if let Some(match_labels) =
        child_obj(spec, "selector").and_then(|s| child_obj(s, "matchLabels"))
    {
        match_labels
            .entry(JOB_CONTROLLER_UID)
            .or_insert_with(|| json!(uid));
    }
    // Kubernetes re-applies defaults when reading, so an unlabelled Job shows its pod labels.
    let tpl_labels = spec
        .get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .cloned();
    copy_labels_if_empty(job, tpl_labels);
}

fn sort_map(m: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    m.extend(entries);
}
