//! Container environment: `env`, `envFrom`, and the downward-API selectors they share with volumes.

use super::errors::{child, index, Errs, Shown};
use super::names;
use crate::json::str_at;
use peapod_apimachinery::quantity::{Quantity, QUANTITY_FORMAT_MSG};
use serde_json::Value;

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];
const RESOURCE_FIELD_REFS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

pub fn validate_env(env: &[Value], path: &str, errs: &mut Errs) {
    for (i, e) in env.iter().enumerate() {
        let p = index(path, i);
        let name_path = child(&p, "name");
        match errs.string_or_report(&name_path, e.get("name")) {
            None | Some("") => errs.required(&name_path, ""),
            Some(n) => errs.invalid_each(&name_path, n, names::env_var_name(n)),
        }
        if let Some(vf) = e.get("valueFrom").filter(|v| !v.is_null()) {
            validate_value_from(e, vf, &child(&p, "valueFrom"), errs);
        }
    }
}

fn validate_value_from(env: &Value, vf: &Value, path: &str, errs: &mut Errs) {
    let mut count = 0;
    if let Some(f) = vf.get("fieldRef").filter(|v| !v.is_null()) {
        count += 1;
        validate_object_field_selector(f, false, &child(path, "fieldRef"), errs);
    }
    if let Some(r) = vf.get("resourceFieldRef").filter(|v| !v.is_null()) {
        count += 1;
        validate_resource_field_selector(r, false, &child(path, "resourceFieldRef"), errs);
    }
    for (field, name_key) in [("configMapKeyRef", "name"), ("secretKeyRef", "name")] {
        if let Some(r) = vf.get(field).filter(|v| !v.is_null()) {
            count += 1;
            let p = child(path, field);
            let name = str_at(r, &[name_key]).unwrap_or("");
            if name.is_empty() {
                errs.required(&child(&p, name_key), "");
            } else {
                errs.invalid_each(&child(&p, name_key), name, names::dns1123_subdomain(name));
            }
            let key = str_at(r, &["key"]).unwrap_or("");
            if key.is_empty() {
                errs.required(&child(&p, "key"), "");
            } else {
                errs.invalid_each(&child(&p, "key"), key, names::config_map_key(key));
            }
        }
    }
    if count == 0 {
        errs.invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        );
    } else if count > 1 {
        errs.invalid(
            path,
            "",
            "may not have more than one field specified at a time",
        );
    }
    if count > 0 && !str_at(env, &["value"]).unwrap_or("").is_empty() {
        errs.invalid(path, "", "may not be specified when `value` is not empty");
    }
}

/// `fieldRef` in env vars (`for_volume == false`) and downward API volume items.
pub fn validate_object_field_selector(f: &Value, for_volume: bool, path: &str, errs: &mut Errs) {
    let api_version = str_at(f, &["apiVersion"]).unwrap_or("");
    if api_version.is_empty() {
        errs.required(&child(path, "apiVersion"), "");
    } else if api_version != "v1" {
        errs.invalid(
            &child(path, "apiVersion"),
            api_version,
            "unsupported version",
        );
    }
    let fp_path = child(path, "fieldPath");
    let fp = str_at(f, &["fieldPath"]).unwrap_or("");
    if fp.is_empty() {
        errs.required(&fp_path, "");
        return;
    }
    // metadata.labels['key'] and metadata.annotations['key'] select one entry.
    for prefix in ["metadata.labels", "metadata.annotations"] {
        if let Some(rest) = fp.strip_prefix(prefix) {
            if let Some(sub) = rest.strip_prefix("['").and_then(|r| r.strip_suffix("']")) {
                let msgs = if prefix == "metadata.labels" {
                    names::qualified_name(sub)
                } else {
                    names::qualified_name(&sub.to_lowercase())
                };
                errs.invalid_each(&fp_path, sub, msgs);
                return;
            }
        }
    }
    let allowed = if for_volume {
        VOLUME_FIELD_PATHS
    } else {
        ENV_FIELD_PATHS
    };
    // Whole label/annotation maps only make sense as files, not as one env value.
    let whole_map = fp == "metadata.labels" || fp == "metadata.annotations";
    if !allowed.contains(&fp) || (whole_map && !for_volume) {
        errs.not_supported(&fp_path, fp, allowed);
    }
}

pub fn validate_resource_field_selector(r: &Value, for_volume: bool, path: &str, errs: &mut Errs) {
    if for_volume && str_at(r, &["containerName"]).unwrap_or("").is_empty() {
        errs.required(&child(path, "containerName"), "");
    }
    let res_path = child(path, "resource");
    let res = str_at(r, &["resource"]).unwrap_or("");
    if res.is_empty() {
        errs.required(&res_path, "");
    } else if !RESOURCE_FIELD_REFS.contains(&res)
        && !res.starts_with("limits.hugepages-")
        && !res.starts_with("requests.hugepages-")
    {
        errs.not_supported(&res_path, res, RESOURCE_FIELD_REFS);
    }
    if let Some(d) = r.get("divisor").filter(|v| !v.is_null()) {
        let d_path = child(path, "divisor");
        let text = d
            .as_str()
            .map(String::from)
            .or_else(|| d.as_i64().map(|n| n.to_string()));
        let problem = match text {
            Some(s) => Quantity::parse(&s).err().map(|e| e.validation_message()),
            None => Some(QUANTITY_FORMAT_MSG),
        };
        if let Some(message) = problem {
            errs.invalid(&d_path, Shown::json(d), message);
        }
    }
}

pub fn validate_env_from(env_from: &[Value], path: &str, errs: &mut Errs) {
    for (i, e) in env_from.iter().enumerate() {
        let p = index(path, i);
        if let Some(prefix) = str_at(e, &["prefix"]).filter(|s| !s.is_empty()) {
            errs.invalid_each(&child(&p, "prefix"), prefix, names::env_var_name(prefix));
        }
        let mut count = 0;
        for field in ["configMapRef", "secretRef"] {
            if let Some(r) = e.get(field).filter(|v| !v.is_null()) {
                count += 1;
                let name_path = child(&child(&p, field), "name");
                match str_at(r, &["name"]).unwrap_or("") {
                    "" => errs.required(&name_path, ""),
                    n => errs.invalid_each(&name_path, n, names::dns1123_subdomain(n)),
                }
            }
        }
        if count == 0 {
            errs.invalid(&p, "", "must specify one of: `configMapRef` or `secretRef`");
        } else if count > 1 {
            errs.invalid(
                &p,
                "",
                "may not have more than one field specified at a time",
            );
        }
    }
}
