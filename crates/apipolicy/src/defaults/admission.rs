//! Defaults added by Kubernetes' built-in admission plugins to Pods (never to templates):
//! ServiceAccount, DefaultTolerationSeconds and Priority.

use crate::json::{child_obj, default_value};
use serde_json::{json, Value};

use peapod_apimachinery::well_known::{
    TAINT_NOT_READY as NOT_READY, TAINT_UNREACHABLE as UNREACHABLE,
};
const DEFAULT_TOLERATION_SECONDS: i64 = 300;

pub fn admit_pod(pod: &mut Value) {
    let Some(pod) = pod.as_object_mut() else {
        return;
    };
    let Some(spec) = child_obj(pod, "spec") else {
        return;
    };
    let sa = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if sa.is_empty() {
        spec.insert("serviceAccountName".into(), json!("default"));
        spec.insert("serviceAccount".into(), json!("default"));
    }
    add_default_tolerations(spec);
    // With no PriorityClass objects, every pod gets priority 0 and the default policy.
    default_value(spec, "priority", json!(0));
    default_value(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
}

/// Tolerate not-ready/unreachable nodes for 300s unless the pod already tolerates them.
fn add_default_tolerations(spec: &mut serde_json::Map<String, Value>) {
    let existing: Vec<Value> = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tolerates = |key: &str| {
        existing.iter().any(|t| {
            let k = t.get("key").and_then(Value::as_str).unwrap_or("");
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            (k == key || k.is_empty()) && (effect == "NoExecute" || effect.is_empty())
        })
    };
    let mut added = Vec::new();
    for key in [NOT_READY, UNREACHABLE] {
        if !tolerates(key) {
            added.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
    if added.is_empty() {
        return;
    }
    let mut all = existing;
    all.extend(added);
    spec.insert("tolerations".into(), Value::Array(all));
}
