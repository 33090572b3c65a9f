//! API defaults for core/v1 kinds other than Pod, and for PodPreset.

use super::pod_spec::{default_container, default_volume};
use crate::json::{child_obj, default_str, default_value, each_obj_mut, existing_obj};
use base64::Engine;
use serde_json::{json, Map, Value};

pub fn default_service(spec: &mut Map<String, Value>) {
    default_str(spec, "sessionAffinity", "None");
    default_str(spec, "type", "ClusterIP");
    if spec.get("sessionAffinity").and_then(Value::as_str) == Some("ClientIP") {
        if let Some(cfg) = child_obj(spec, "sessionAffinityConfig") {
            if let Some(ip) = child_obj(cfg, "clientIP") {
                default_value(ip, "timeoutSeconds", json!(10800));
            }
        }
    }
    for p in each_obj_mut(spec, "ports") {
        default_str(p, "protocol", "TCP");
        let unset = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(n) => n.as_i64() == Some(0),
        };
        if unset {
            if let Some(port) = p.get("port").cloned() {
                p.insert("targetPort".into(), port);
            }
        }
    }
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if ty == "NodePort" || ty == "LoadBalancer" {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if ty != "ExternalName" {
        default_value(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default_value(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

/// `stringData` is write-only: it is merged into `data` (base64) and dropped.
pub fn default_secret(secret: &mut Map<String, Value>) {
    default_str(secret, "type", "Opaque");
    let Some(Value::Object(string_data)) = secret.remove("stringData") else {
        return;
    };
    let Some(data) = child_obj(secret, "data") else {
        return;
    };
    for (k, v) in string_data {
        if let Some(s) = v.as_str() {
            let encoded = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
            data.insert(k, Value::String(encoded));
        }
    }
}

pub fn default_namespace(ns: &mut Map<String, Value>) {
    let name = ns
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty() {
        if let Some(labels) = child_obj(ns, "metadata").and_then(|m| child_obj(m, "labels")) {
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
    if let Some(status) = child_obj(ns, "status") {
        default_str(status, "phase", "Active");
    }
}

pub fn default_node(node: &mut Map<String, Value>) {
    if let Some(status) = existing_obj(node, "status") {
        if status.get("allocatable").is_none_or(Value::is_null) {
            if let Some(cap) = status.get("capacity").filter(|c| !c.is_null()).cloned() {
                status.insert("allocatable".into(), cap);
            }
        }
    }
}

pub fn default_endpoints(ep: &mut Map<String, Value>) {
    for subset in each_obj_mut(ep, "subsets") {
        for p in each_obj_mut(subset, "ports") {
            default_str(p, "protocol", "TCP");
        }
    }
}

/// PodPreset embeds core types, which get their usual defaults.
pub fn default_pod_preset(spec: &mut Map<String, Value>) {
    for v in each_obj_mut(spec, "volumes") {
        default_volume(v);
    }
    // Env defaults live on containers; run them on a scratch container holding this env.
    let mut scratch = Map::new();
    if let Some(env) = spec.get("env").cloned() {
        scratch.insert("env".into(), env);
        default_container(&mut scratch);
        if let Some(env) = scratch.remove("env") {
            spec.insert("env".into(), env);
        }
    }
}
