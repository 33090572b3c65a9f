//! Label selectors: validation, matching, and Go-style rendering for error messages.

use super::errors::{child, index, Errs, Shown};
use super::metadata::validate_labels;
use super::names;
use crate::json::go_quote;
use serde_json::{Map, Value};

pub fn validate_label_selector(sel: &Value, path: &str, errs: &mut Errs) {
    if sel.is_null() {
        return;
    }
    let Some(obj) = sel.as_object() else {
        errs.type_invalid(path, Shown::json(sel), "must be a label selector object");
        return;
    };
    validate_labels(obj.get("matchLabels"), &child(path, "matchLabels"), errs);
    let exprs = obj.get("matchExpressions").and_then(Value::as_array);
    for (i, e) in exprs.into_iter().flatten().enumerate() {
        let p = index(&child(path, "matchExpressions"), i);
        let op = e.get("operator").and_then(Value::as_str).unwrap_or("");
        let values = e
            .get("values")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        match op {
            "In" | "NotIn" => {
                if values == 0 {
                    errs.required(
                        &child(&p, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    );
                }
            }
            "Exists" | "DoesNotExist" => {
                if values > 0 {
                    errs.forbidden(
                        &child(&p, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                }
            }
            _ => errs.invalid(&child(&p, "operator"), op, "not a valid selector operator"),
        }
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        errs.invalid_each(&child(&p, "key"), key, names::qualified_name(key));
        for (j, v) in e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let s = v.as_str().unwrap_or("");
            errs.invalid_each(&index(&child(&p, "values"), j), s, names::label_value(s));
        }
    }
}

/// True when the selector has neither matchLabels nor matchExpressions.
pub fn selector_is_empty(sel: &Value) -> bool {
    let n = |k: &str| {
        sel.get(k)
            .map(|v| v.as_object().map_or(0, Map::len) + v.as_array().map_or(0, Vec::len))
            .unwrap_or(0)
    };
    n("matchLabels") + n("matchExpressions") == 0
}

/// Go's `%#v` of a `map[string]string`, as Kubernetes prints label maps in errors.
pub fn go_string_map(m: Option<&Value>) -> String {
    match m.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v.as_str().unwrap_or(""))))
                .collect();
            format!("map[string]string{{{}}}", body.join(", "))
        }
    }
}

fn go_string_slice(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|s| go_quote(s.as_str().unwrap_or("")))
                .collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    }
}

/// Go's `%#v` of a `metav1.LabelSelector`, as in "spec.selector: Invalid value: v1.LabelSelector{...}".
pub fn go_label_selector(sel: &Value) -> String {
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|e| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(e.get("key").and_then(Value::as_str).unwrap_or("")),
                        go_quote(e.get("operator").and_then(Value::as_str).unwrap_or("")),
                        go_string_slice(e.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.get("matchLabels")),
        exprs
    )
}

/// A possibly absent selector shown as Kubernetes prints it in "field is immutable" errors.
pub fn shown_selector(sel: Option<&Value>) -> Shown {
    match sel.filter(|s| !s.is_null()) {
        Some(s) => Shown::Raw(go_label_selector(s)),
        None => Shown::Str("null".to_string()),
    }
}
