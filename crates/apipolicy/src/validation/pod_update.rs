//! What a Pod update may change: images, a shorter activeDeadlineSeconds, added tolerations,
//! removed scheduling gates, and a negative grace period corrected to 1. Nothing else in spec.

use super::errors::{child, Errs};
use super::pod_spec::{validate_tolerations, MAX_INT32};
use crate::json::{arr_at, at, i64_at, is_empty, str_at};
use serde_json::{Map, Value};

const UPDATABLE_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

pub fn validate_pod_update(old: &Value, new: &Value, errs: &mut Errs) {
    let old_spec = at(old, &["spec"]).unwrap_or(&Value::Null);
    let new_spec = at(new, &["spec"]).unwrap_or(&Value::Null);
    if !validate_active_deadline(old_spec, new_spec, errs) {
        return;
    }
    validate_only_added_tolerations(old_spec, new_spec, errs);
    validate_gates_only_removed(old_spec, new_spec, errs);

    let mut changed = new_spec.clone();
    if let Some(spec) = changed.as_object_mut() {
        carry_over_mutable_fields(old_spec, spec);
    }
    let mut diffs = Vec::new();
    diff_values(
        &normalize(old_spec),
        &normalize(&changed),
        "spec",
        &mut diffs,
    );
    if !diffs.is_empty() {
        let mut msg = format!("pod updates may not change fields other than {UPDATABLE_FIELDS}");
        for d in diffs.iter().take(20) {
            msg.push('\n');
            msg.push_str(d);
        }
        errs.forbidden("spec", &msg);
    }
}

/// Returns false when the error makes further checks pointless (as Kubernetes does).
fn validate_active_deadline(old: &Value, new: &Value, errs: &mut Errs) -> bool {
    let path = "spec.activeDeadlineSeconds";
    match (
        i64_at(old, &["activeDeadlineSeconds"]),
        i64_at(new, &["activeDeadlineSeconds"]),
    ) {
        (_, Some(n)) if !(0..=MAX_INT32).contains(&n) => {
            errs.invalid(
                path,
                n,
                &format!("must be between 0 and {MAX_INT32}, inclusive"),
            );
            false
        }
        (Some(o), Some(n)) if o < n => {
            errs.invalid(path, n, "must be less than or equal to previous value");
            false
        }
        (Some(_), None) => {
            errs.invalid(
                path,
                super::errors::Shown::Str("null".into()),
                "must not update from a positive integer to nil value",
            );
            false
        }
        _ => true,
    }
}

fn validate_only_added_tolerations(old: &Value, new: &Value, errs: &mut Errs) {
    let new_tols = arr_at(new, &["tolerations"]);
    for o in arr_at(old, &["tolerations"]) {
        let found = new_tols.iter().any(|n| {
            // tolerationSeconds may change on an existing toleration.
            let mut o2 = normalize(o);
            let n2 = normalize(n);
            if let (Some(om), Some(nm)) = (o2.as_object_mut(), n2.as_object()) {
                match nm.get("tolerationSeconds") {
                    Some(v) => om.insert("tolerationSeconds".into(), v.clone()),
                    None => om.remove("tolerationSeconds"),
                };
            }
            o2 == n2
        });
        if !found {
            errs.forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            );
            return;
        }
    }
    validate_tolerations(new_tols, "spec.tolerations", errs);
}

fn validate_gates_only_removed(old: &Value, new: &Value, errs: &mut Errs) {
    let old_gates: Vec<&str> = arr_at(old, &["schedulingGates"])
        .iter()
        .filter_map(|g| str_at(g, &["name"]))
        .collect();
    for g in arr_at(new, &["schedulingGates"]) {
        let name = str_at(g, &["name"]).unwrap_or("");
        if !old_gates.contains(&name) {
            errs.forbidden(
                "spec.schedulingGates",
                &format!("only deletion is allowed, but found new scheduling gate '{name}'"),
            );
        }
    }
}

/// Copies the fields an update may change from `old` into `new`, so any remaining
/// difference is a forbidden change.
fn carry_over_mutable_fields(old: &Value, new: &mut Map<String, Value>) {
    for list in ["containers", "initContainers"] {
        let old_list = arr_at(old, &[list]);
        if let Some(new_list) = new.get_mut(list).and_then(Value::as_array_mut) {
            if new_list.len() == old_list.len() {
                for (n, o) in new_list.iter_mut().zip(old_list) {
                    if let Some(n) = n.as_object_mut() {
                        match o.get("image") {
                            Some(img) => n.insert("image".into(), img.clone()),
                            None => n.remove("image"),
                        };
                    }
                }
            }
        }
    }
    for field in ["activeDeadlineSeconds", "tolerations", "schedulingGates"] {
        match old.get(field) {
            Some(v) => new.insert(field.into(), v.clone()),
            None => new.remove(field),
        };
    }
    let old_grace = i64_at(old, &["terminationGracePeriodSeconds"]);
    let new_grace = new
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
        if let Some(g) = old.get("terminationGracePeriodSeconds") {
            new.insert("terminationGracePeriodSeconds".into(), g.clone());
        }
    }
}

/// Drops null/empty members so `[]`, `{}` and absent compare equal (as Go's zero values do).
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, val) in m {
                let n = normalize(val);
                if !is_empty(&n) && n != Value::Bool(false) {
                    out.insert(k.clone(), n);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

/// Lists changed leaves as `path: old -> new` lines.
pub fn diff_values(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.dedup();
            let mut seen = std::collections::HashSet::new();
            for k in keys {
                if !seen.insert(k) {
                    continue;
                }
                let av = a.get(k).unwrap_or(&Value::Null);
                let bv = b.get(k).unwrap_or(&Value::Null);
                if av != bv {
                    diff_values(av, bv, &child(path, k), out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                if av != bv {
                    diff_values(av, bv, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => out.push(format!("  {path}: {old} -> {new}")),
    }
}
