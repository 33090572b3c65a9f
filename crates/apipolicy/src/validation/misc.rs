//! Smaller kinds: Namespace, Node, ServiceAccount, Endpoints, Events, Lease, PodPreset.

use super::env::{validate_env, validate_env_from};
use super::errors::{child, index, Errs, Shown};
use super::names;
use super::pod_update::normalize;
use super::selector::validate_label_selector;
use super::volumes::{validate_volume_mounts, validate_volumes};
use crate::json::{arr_at, at, str_at};
use serde_json::Value;
use std::collections::HashSet;

pub fn validate_namespace(ns: &Value, errs: &mut Errs) {
    for (i, f) in arr_at(ns, &["spec", "finalizers"]).iter().enumerate() {
        let f = f.as_str().unwrap_or("");
        // "kubernetes" is the built-in finalizer; others must be qualified names with a domain.
        if f != "kubernetes" {
            let msgs = names::qualified_name(f);
            if !msgs.is_empty() {
                errs.invalid_each(&index("spec.finalizers", i), f, msgs);
            } else if !f.contains('/') {
                errs.invalid(
                    &index("spec.finalizers", i),
                    f,
                    "name is neither a standard finalizer name nor is it fully qualified",
                );
            }
        }
    }
}

pub fn validate_node(node: &Value, errs: &mut Errs) {
    let spec = node.get("spec").unwrap_or(&Value::Null);
    let mut seen = HashSet::new();
    for (i, t) in arr_at(spec, &["taints"]).iter().enumerate() {
        let p = index("spec.taints", i);
        let key = str_at(t, &["key"]).unwrap_or("");
        errs.invalid_each(&child(&p, "key"), key, names::qualified_name(key));
        let value = str_at(t, &["value"]).unwrap_or("");
        errs.invalid_each(&child(&p, "value"), value, names::label_value(value));
        let effect = str_at(t, &["effect"]).unwrap_or("");
        errs.enum_value(
            &child(&p, "effect"),
            t.get("effect"),
            &["NoExecute", "NoSchedule", "PreferNoSchedule"],
            true,
        );
        if !seen.insert((key.to_string(), effect.to_string())) {
            errs.duplicate(&p, format!("{key}:{effect}"));
        }
    }
    for field in ["podCIDR"] {
        if let Some(cidr) = str_at(spec, &[field]).filter(|s| !s.is_empty()) {
            if !is_cidr(cidr) {
                errs.invalid(
                    &format!("spec.{field}"),
                    cidr,
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                );
            }
        }
    }
    for (i, c) in arr_at(spec, &["podCIDRs"]).iter().enumerate() {
        let c = c.as_str().unwrap_or("");
        if !is_cidr(c) {
            errs.invalid(
                &index("spec.podCIDRs", i),
                c,
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            );
        }
    }
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = ip.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    bits.parse::<u32>().is_ok_and(|b| b <= max)
}

pub fn validate_service_account(sa: &Value, errs: &mut Errs) {
    for (field, key) in [("secrets", "name"), ("imagePullSecrets", "name")] {
        for (i, r) in arr_at(sa, &[field]).iter().enumerate() {
            if let Some(n) = str_at(r, &[key]).filter(|n| !n.is_empty()) {
                errs.invalid_each(
                    &child(&index(field, i), key),
                    n,
                    names::dns1123_subdomain(n),
                );
            }
        }
    }
}

pub fn validate_endpoints(ep: &Value, errs: &mut Errs) {
    for (i, subset) in arr_at(ep, &["subsets"]).iter().enumerate() {
        let sp = index("subsets", i);
        for list in ["addresses", "notReadyAddresses"] {
            for (j, a) in arr_at(subset, &[list]).iter().enumerate() {
                let ip = str_at(a, &["ip"]).unwrap_or("");
                if !names::is_ip(ip) {
                    errs.invalid(
                        &child(&index(&child(&sp, list), j), "ip"),
                        ip,
                        names::IP_MSG,
                    );
                }
            }
        }
        for (j, p) in arr_at(subset, &["ports"]).iter().enumerate() {
            let pp = index(&child(&sp, "ports"), j);
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=65535).contains(&port) {
                errs.invalid(
                    &child(&pp, "port"),
                    port,
                    "must be between 1 and 65535, inclusive",
                );
            }
            errs.enum_value(
                &child(&pp, "protocol"),
                p.get("protocol"),
                &["SCTP", "TCP", "UDP"],
                true,
            );
            if let Some(n) = str_at(p, &["name"]).filter(|n| !n.is_empty()) {
                errs.invalid_each(&child(&pp, "name"), n, names::dns1123_label(n));
            }
        }
    }
}

/// core/v1 Event: legacy events need a consistent involvedObject; new ones (with eventTime)
/// need the reporting fields.
pub fn validate_core_event(ev: &Value, errs: &mut Errs) {
    let ns = str_at(ev, &["metadata", "namespace"]).unwrap_or("");
    let involved_ns = str_at(ev, &["involvedObject", "namespace"]).unwrap_or("");
    let new_style = at(ev, &["eventTime"]).is_some_and(|v| !v.is_null() && v != "");
    if !new_style {
        let mismatch = if involved_ns.is_empty() {
            !ns.is_empty() && ns != "default"
        } else {
            ns != involved_ns
        };
        if mismatch {
            errs.invalid(
                "involvedObject.namespace",
                involved_ns,
                "does not match event.namespace",
            );
        }
    } else {
        if involved_ns.is_empty() && ns != "default" && ns != "kube-system" {
            errs.invalid(
                "involvedObject.namespace",
                involved_ns,
                "does not match event.namespace",
            );
        }
        validate_reporting(ev, "reportingComponent", "message", errs);
    }
}

fn validate_reporting(ev: &Value, controller_field: &str, note_field: &str, errs: &mut Errs) {
    let controller = str_at(ev, &[controller_field]).unwrap_or("");
    if controller.is_empty() {
        errs.required(controller_field, "");
    } else {
        errs.invalid_each(
            controller_field,
            controller,
            names::qualified_name(controller),
        );
    }
    for (field, limit) in [
        ("reportingInstance", 128usize),
        ("action", 128),
        ("reason", 128),
    ] {
        let v = str_at(ev, &[field]).unwrap_or("");
        if v.is_empty() {
            errs.required(field, "");
        } else if v.len() > limit {
            errs.invalid(field, "", &format!("can have at most {limit} characters"));
        }
    }
    if str_at(ev, &[note_field]).unwrap_or("").len() > 1024 {
        errs.invalid(note_field, "", "can have at most 1024 characters");
    }
}

/// events.k8s.io/v1 Event.
pub fn validate_events_v1(ev: &Value, errs: &mut Errs) {
    if at(ev, &["eventTime"]).is_none_or(|v| v.is_null() || v == "") {
        errs.required("eventTime", "");
    }
    validate_reporting(ev, "reportingController", "note", errs);
    if let Some(t) = str_at(ev, &["type"]).filter(|t| !t.is_empty()) {
        if t != "Normal" && t != "Warning" {
            errs.invalid(
                "type",
                t,
                "has invalid value: Normal or Warning are allowed",
            );
        }
    }
}

pub fn validate_lease(lease: &Value, errs: &mut Errs) {
    let spec = lease.get("spec").unwrap_or(&Value::Null);
    errs.positive(
        "spec.leaseDurationSeconds",
        spec.get("leaseDurationSeconds"),
    );
    errs.nonnegative("spec.leaseTransitions", spec.get("leaseTransitions"));
}

/// settings.k8s.io/v1alpha1 PodPreset.
pub fn validate_pod_preset(pp: &Value, errs: &mut Errs) {
    let spec = pp.get("spec").unwrap_or(&Value::Null);
    validate_label_selector(
        spec.get("selector").unwrap_or(&Value::Null),
        "spec.selector",
        errs,
    );
    if ["env", "envFrom", "volumeMounts", "volumes"]
        .iter()
        .all(|f| spec.get(*f).is_none_or(Value::is_null))
    {
        errs.required(
            "spec.volumes.env.envFrom.volumeMounts",
            "must specify at least one",
        );
    }
    let vols = validate_volumes(arr_at(spec, &["volumes"]), "spec.volumes", errs);
    validate_env(arr_at(spec, &["env"]), "spec.env", errs);
    validate_env_from(arr_at(spec, &["envFrom"]), "spec.envFrom", errs);
    validate_volume_mounts(
        arr_at(spec, &["volumeMounts"]),
        Some(&vols),
        "spec.volumeMounts",
        errs,
    );
}

pub fn validate_pod_preset_update(old: &Value, new: &Value, errs: &mut Errs) {
    let o = normalize(old.get("spec").unwrap_or(&Value::Null));
    let n = normalize(new.get("spec").unwrap_or(&Value::Null));
    if o != n {
        errs.invalid(
            "spec",
            Shown::Raw(format!("settings.PodPresetSpec{n}")),
            "field is immutable",
        );
    }
}
