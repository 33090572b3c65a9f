//! API defaults for PodSpec, containers, probes and volumes (every pod spec, templates too).

use super::image::default_pull_policy;
use crate::json::{
    child_obj, default_nonzero, default_str, default_value, each_obj_mut, existing_obj,
};
use serde_json::{json, Map, Value};

/// Defaults applied to every PodSpec. `is_pod` adds the ones Kubernetes applies to Pods only.
pub fn default_pod_spec(spec: &mut Map<String, Value>, is_pod: bool) {
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_value(spec, "securityContext", json!({}));
    default_value(spec, "terminationGracePeriodSeconds", json!(30));
    default_str(spec, "schedulerName", "default-scheduler");
    // The deprecated serviceAccount field mirrors serviceAccountName (a conversion rule).
    let sa_name = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let sa_old = spec
        .get("serviceAccount")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if sa_name.is_empty() && !sa_old.is_empty() {
        spec.insert("serviceAccountName".into(), json!(sa_old));
    } else if !sa_name.is_empty() {
        spec.insert("serviceAccount".into(), json!(sa_name));
    }
    let host_network = spec
        .get("hostNetwork")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for c in each_obj_mut(spec, list) {
            default_container(c);
            if is_pod {
                copy_limits_to_requests(c);
                if host_network {
                    default_host_ports(c);
                }
            }
        }
    }
    for v in each_obj_mut(spec, "volumes") {
        default_volume(v);
    }
    if is_pod {
        default_value(spec, "enableServiceLinks", json!(true));
    }
}

pub fn default_container(c: &mut Map<String, Value>) {
    if c.get("imagePullPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let policy = default_pull_policy(image);
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    // Go always serializes the (non-pointer) resources struct, so it shows as {}.
    default_value(c, "resources", json!({}));
    for p in each_obj_mut(c, "ports") {
        default_str(p, "protocol", "TCP");
    }
    for e in each_obj_mut(c, "env") {
        if let Some(vf) = existing_obj(e, "valueFrom") {
            default_env_source(vf);
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = existing_obj(c, probe) {
            default_probe(p);
        }
    }
    if let Some(lc) = existing_obj(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = existing_obj(lc, hook) {
                if let Some(g) = existing_obj(h, "httpGet") {
                    default_http_get(g);
                }
            }
        }
    }
}

fn default_env_source(vf: &mut Map<String, Value>) {
    if let Some(f) = existing_obj(vf, "fieldRef") {
        default_str(f, "apiVersion", "v1");
    }
    if let Some(r) = existing_obj(vf, "resourceFieldRef") {
        // A zero Quantity serializes as "0".
        default_value(r, "divisor", json!("0"));
    }
}

fn default_probe(p: &mut Map<String, Value>) {
    default_nonzero(p, "timeoutSeconds", 1);
    default_nonzero(p, "periodSeconds", 10);
    default_nonzero(p, "successThreshold", 1);
    default_nonzero(p, "failureThreshold", 3);
    if let Some(g) = existing_obj(p, "httpGet") {
        default_http_get(g);
    }
    if let Some(g) = existing_obj(p, "grpc") {
        default_value(g, "service", json!(""));
    }
}

fn default_http_get(g: &mut Map<String, Value>) {
    default_str(g, "path", "/");
    default_str(g, "scheme", "HTTP");
}

/// Pods only: a limit without a request requests the limit.
fn copy_limits_to_requests(c: &mut Map<String, Value>) {
    let Some(res) = existing_obj(c, "resources") else {
        return;
    };
    let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let Some(requests) = child_obj(res, "requests") else {
        return;
    };
    for (k, v) in limits {
        requests.entry(k).or_insert(v);
    }
}

/// Pods only: with hostNetwork the host port is the container port.
fn default_host_ports(c: &mut Map<String, Value>) {
    for p in each_obj_mut(c, "ports") {
        let cp = p.get("containerPort").cloned().unwrap_or(Value::Null);
        default_nonzero_value(p, "hostPort", cp);
    }
}

fn default_nonzero_value(obj: &mut Map<String, Value>, key: &str, value: Value) {
    let unset = obj
        .get(key)
        .is_none_or(|v| v.is_null() || v.as_i64() == Some(0));
    if unset && !value.is_null() {
        obj.insert(key.into(), value);
    }
}

const MODE_0644: i64 = 0o644;

pub fn default_volume(v: &mut Map<String, Value>) {
    let has_source = v.iter().any(|(k, val)| k != "name" && !val.is_null());
    if !has_source {
        v.insert("emptyDir".into(), json!({}));
    }
    if let Some(s) = existing_obj(v, "secret") {
        default_value(s, "defaultMode", json!(MODE_0644));
    }
    if let Some(s) = existing_obj(v, "configMap") {
        default_value(s, "defaultMode", json!(MODE_0644));
    }
    if let Some(s) = existing_obj(v, "downwardAPI") {
        default_value(s, "defaultMode", json!(MODE_0644));
        default_downward_items(s);
    }
    if let Some(s) = existing_obj(v, "hostPath") {
        default_value(s, "type", json!(""));
    }
    if let Some(s) = existing_obj(v, "projected") {
        default_value(s, "defaultMode", json!(MODE_0644));
        for src in each_obj_mut(s, "sources") {
            if let Some(t) = existing_obj(src, "serviceAccountToken") {
                default_value(t, "expirationSeconds", json!(3600));
            }
            if let Some(d) = existing_obj(src, "downwardAPI") {
                default_downward_items(d);
            }
        }
    }
    if let Some(s) = existing_obj(v, "iscsi") {
        default_str(s, "iscsiInterface", "default");
    }
    if let Some(s) = existing_obj(v, "rbd") {
        default_str(s, "pool", "rbd");
        default_str(s, "user", "admin");
        default_str(s, "keyring", "/etc/ceph/keyring");
    }
    if let Some(s) = existing_obj(v, "azureDisk") {
        default_value(s, "cachingMode", json!("ReadWrite"));
        default_value(s, "fsType", json!("ext4"));
        default_value(s, "readOnly", json!(false));
        default_value(s, "kind", json!("Shared"));
    }
    if let Some(s) = existing_obj(v, "scaleIO") {
        default_str(s, "storageMode", "ThinProvisioned");
        default_str(s, "fsType", "xfs");
    }
}

fn default_downward_items(d: &mut Map<String, Value>) {
    for item in each_obj_mut(d, "items") {
        if let Some(f) = existing_obj(item, "fieldRef") {
            default_str(f, "apiVersion", "v1");
        }
        if let Some(r) = existing_obj(item, "resourceFieldRef") {
            default_value(r, "divisor", json!("0"));
        }
    }
}

/// Defaults for a pod template (`{metadata, spec}`) embedded in a workload.
pub fn default_pod_template(tpl: &mut Map<String, Value>) {
    if let Some(spec) = child_obj(tpl, "spec") {
        default_pod_spec(spec, false);
    }
}
