//! core/v1 ReplicationController: ReplicaSet's rules, with an equality selector (a plain
//! label map) that, unlike a ReplicaSet's, may change after creation.

use super::apps::{validate_replica_template, validate_template_selected};
use super::errors::Errs;
use serde_json::{json, Map, Value};

pub fn validate_replication_controller(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    errs.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"));
    let selector = spec
        .get("selector")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty());
    if selector.is_none() {
        errs.required("spec.selector", "");
    }
    errs.nonnegative("spec.replicas", spec.get("replicas"));
    let tpl = spec.get("template").unwrap_or(&Value::Null);
    if !tpl.is_null() {
        if let Some(sel) = selector {
            validate_template_selected(tpl, &as_label_selector(sel), errs);
        }
    }
    validate_replica_template(tpl, "ReplicationController", errs);
}

/// The label map as the equivalent `matchLabels` selector.
fn as_label_selector(selector: &Map<String, Value>) -> Value {
    json!({ "matchLabels": selector })
}
