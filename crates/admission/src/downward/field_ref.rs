//! `fieldRef` (Downward API) values, resolved the way the kubelet resolves them for env vars and
//! volume files.

use peapod_apimachinery::selectors::validate_label_key;
use serde_json::{Map, Value};

use super::goquote::go_quote;
use crate::json::{at, metadata_map, str_at};

/// The value of `field_path` for `pod`: `metadata.name|namespace|uid`, `metadata.labels` and
/// `metadata.annotations` (all entries, `key="value"` lines sorted by key, values quoted like Go's
/// `%q`), `metadata.labels['k']`, `metadata.annotations['k']`, `spec.nodeName`,
/// `spec.serviceAccountName`, `status.hostIP(s)` and `status.podIP(s)` (lists joined by commas).
/// Missing fields give an empty string, as in Kubernetes; unsupported paths are errors.
pub fn resolve_field_ref(pod: &Value, field_path: &str) -> Result<String, String> {
    if let Some((path, key)) = split_subscript(field_path) {
        let map = match path {
            "metadata.labels" => "labels",
            "metadata.annotations" => "annotations",
            _ => {
                return Err(format!(
                    "fieldPath {field_path:?} does not support subscript"
                ))
            }
        };
        // Annotation keys are checked case-insensitively, as upstream lowercases them first.
        let checked = if map == "annotations" {
            key.to_lowercase()
        } else {
            key.to_string()
        };
        validate_label_key(&checked)
            .map_err(|e| format!("invalid key subscript in {field_path}: {e}"))?;
        return Ok(metadata_map(pod, map)
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string());
    }
    let text = |path: &[&str]| str_at(pod, path).unwrap_or("").to_string();
    let value = match field_path {
        "metadata.name" => text(&["metadata", "name"]),
        "metadata.namespace" => text(&["metadata", "namespace"]),
        "metadata.uid" => text(&["metadata", "uid"]),
        "metadata.labels" => format_map(metadata_map(pod, "labels")),
        "metadata.annotations" => format_map(metadata_map(pod, "annotations")),
        "spec.nodeName" => text(&["spec", "nodeName"]),
        "spec.serviceAccountName" => text(&["spec", "serviceAccountName"]),
        "status.hostIP" => text(&["status", "hostIP"]),
        "status.podIP" => text(&["status", "podIP"]),
        "status.hostIPs" => ip_list(pod, "hostIPs", "hostIP"),
        "status.podIPs" => ip_list(pod, "podIPs", "podIP"),
        _ => return Err(format!("unsupported fieldPath: {field_path}")),
    };
    Ok(value)
}

/// `path['key']` → (`path`, `key`).
fn split_subscript(field_path: &str) -> Option<(&str, &str)> {
    let inner = field_path.strip_suffix("']")?;
    let (path, key) = inner.split_once("['")?;
    (!path.is_empty()).then_some((path, key))
}

/// `key="value"` lines sorted by key, without a trailing newline.
fn format_map(map: Option<&Map<String, Value>>) -> String {
    let mut entries: Vec<(&String, &str)> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.as_str().unwrap_or("")))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
        .iter()
        .map(|(key, value)| format!("{key}={}", go_quote(value)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `status.<plural>` (`[{ip: ..}, ..]`) joined with commas; falls back to the singular field.
fn ip_list(pod: &Value, plural: &str, singular: &str) -> String {
    let ips: Vec<&str> = at(pod, &["status", plural])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("ip").and_then(Value::as_str))
        .collect();
    if ips.is_empty() {
        return str_at(pod, &["status", singular]).unwrap_or("").to_string();
    }
    ips.join(",")
}
