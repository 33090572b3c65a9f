//! ObjectMeta validation: name, namespace, labels, annotations, finalizers, owner references.

use super::errors::{child, index, Errs, Shown};
use super::names;
use crate::json::{at, obj_at};
use serde_json::Value;

/// Which checker a kind applies to `metadata.name`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NameRule {
    Subdomain,
    Label,
    Dns1035,
}

const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

pub fn validate_object_meta(obj: &Value, rule: NameRule, namespaced: bool, errs: &mut Errs) {
    let meta = at(obj, &["metadata"]).unwrap_or(&Value::Null);
    let name = errs.string_or_report("metadata.name", meta.get("name"));
    let generate = meta
        .get("generateName")
        .and_then(Value::as_str)
        .unwrap_or("");
    match name {
        None | Some("") => {
            if generate.is_empty() {
                errs.required("metadata.name", "name or generateName is required");
            }
        }
        Some(n) => {
            let msgs = match rule {
                NameRule::Subdomain => names::dns1123_subdomain(n),
                NameRule::Label => names::dns1123_label(n),
                NameRule::Dns1035 => names::dns1035_label(n),
            };
            errs.invalid_each("metadata.name", n, msgs);
        }
    }
    if namespaced {
        if let Some(ns) = errs.string_or_report("metadata.namespace", meta.get("namespace")) {
            if !ns.is_empty() {
                errs.invalid_each("metadata.namespace", ns, names::dns1123_label(ns));
            }
        }
    }
    validate_labels(meta.get("labels"), "metadata.labels", errs);
    validate_annotations(meta.get("annotations"), "metadata.annotations", errs);
    for (i, f) in meta
        .get("finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = index("metadata.finalizers", i);
        if let Some(f) = errs.string_or_report(&path, Some(f)) {
            errs.invalid_each("metadata.finalizers", f, names::qualified_name(f));
        }
    }
    for (i, r) in meta
        .get("ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = index("metadata.ownerReferences", i);
        for field in ["apiVersion", "kind", "name", "uid"] {
            if r.get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                let detail = match field {
                    "apiVersion" => "version must not be empty",
                    "kind" => "kind must not be empty",
                    "name" => "name must not be empty",
                    _ => "uid must not be empty",
                };
                errs.invalid(&child(&path, field), "", detail);
            }
        }
    }
}

/// Labels (and selector matchLabels / nodeSelector, which use the same rules).
pub fn validate_labels(labels: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(labels) = labels.filter(|v| !v.is_null()) else {
        return;
    };
    let Some(map) = labels.as_object() else {
        errs.type_invalid(path, Shown::json(labels), "must be a map of strings");
        return;
    };
    for (k, v) in map {
        errs.invalid_each(path, k, names::qualified_name(k));
        match v.as_str() {
            Some(s) => errs.invalid_each(path, s, names::label_value(s)),
            None => errs.type_invalid(&format!("{path}[{k}]"), Shown::json(v), "must be a string"),
        }
    }
}

pub fn validate_annotations(ann: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(ann) = ann.filter(|v| !v.is_null()) else {
        return;
    };
    let Some(map) = ann.as_object() else {
        errs.type_invalid(path, Shown::json(ann), "must be a map of strings");
        return;
    };
    let mut total = 0usize;
    for (k, v) in map {
        errs.invalid_each(path, k, names::qualified_name(&k.to_lowercase()));
        total += k.len() + v.as_str().map_or(0, str::len);
        if !v.is_string() {
            errs.type_invalid(&format!("{path}[{k}]"), Shown::json(v), "must be a string");
        }
    }
    if total > ANNOTATIONS_MAX_BYTES {
        errs.too_long(path, ANNOTATIONS_MAX_BYTES);
    }
}

/// Update rules shared by every kind: identity fields may not change.
pub fn validate_object_meta_update(old: &Value, new: &Value, errs: &mut Errs) {
    for field in ["name", "namespace", "uid"] {
        let o = obj_at(old, &["metadata"])
            .and_then(|m| m.get(field))
            .and_then(Value::as_str);
        let n = obj_at(new, &["metadata"])
            .and_then(|m| m.get(field))
            .and_then(Value::as_str);
        if let (Some(o), Some(n)) = (o, n) {
            if !o.is_empty() && !n.is_empty() && o != n {
                errs.invalid(&format!("metadata.{field}"), n, "field is immutable");
            }
        }
    }
}
