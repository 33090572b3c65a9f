//! PodSpec validation, shared by Pods and every pod template.

use super::container::{validate_container, ContainerCtx, ContainerKind};
use super::errors::{child, index, Errs};
use super::metadata::{validate_annotations, validate_labels};
use super::names;
use super::volumes::validate_volumes;
use crate::json::{arr_at, bool_at, i64_at, str_at};
use serde_json::Value;
use std::collections::HashSet;

/// The largest value an int32 API field holds (the bound of its range errors).
pub(super) const MAX_INT32: i64 = i32::MAX as i64;

/// Validates a pod template (`metadata` labels/annotations and `spec`) at `path`.
pub fn validate_pod_template(tpl: &Value, path: &str, errs: &mut Errs) {
    if tpl.is_null() {
        errs.required(path, "");
        return;
    }
    let meta = child(path, "metadata");
    validate_labels(
        tpl.get("metadata").and_then(|m| m.get("labels")),
        &child(&meta, "labels"),
        errs,
    );
    validate_annotations(
        tpl.get("metadata").and_then(|m| m.get("annotations")),
        &child(&meta, "annotations"),
        errs,
    );
    let spec_path = child(path, "spec");
    validate_pod_spec(
        tpl.get("spec").unwrap_or(&Value::Null),
        &spec_path,
        false,
        errs,
    );
    if !arr_at(tpl, &["spec", "ephemeralContainers"]).is_empty() {
        errs.forbidden(
            &child(&spec_path, "ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        );
    }
}

/// Validates a PodSpec at `path` ("spec" for Pods, "spec.template.spec" for workloads).
pub fn validate_pod_spec(spec: &Value, path: &str, is_pod: bool, errs: &mut Errs) {
    let vol_names = validate_volumes(arr_at(spec, &["volumes"]), &child(path, "volumes"), errs);
    let grace = i64_at(spec, &["terminationGracePeriodSeconds"]);
    let host_network = bool_at(spec, &["hostNetwork"]).unwrap_or(false);
    let ctx = ContainerCtx {
        volumes: &vol_names,
        grace_period: grace,
        host_network,
        is_pod,
    };
    let containers = arr_at(spec, &["containers"]);
    let init_containers = arr_at(spec, &["initContainers"]);
    let containers_path = child(path, "containers");
    if containers.is_empty() {
        errs.required(&containers_path, "");
    }
    let mut seen_names = HashSet::new();
    validate_container_list(
        containers,
        ContainerKind::Regular,
        &containers_path,
        &ctx,
        &mut seen_names,
        errs,
    );
    validate_container_list(
        init_containers,
        ContainerKind::Init,
        &child(path, "initContainers"),
        &ctx,
        &mut seen_names,
        errs,
    );
    validate_host_ports(containers, &containers_path, errs);

    errs.enum_value(
        &child(path, "restartPolicy"),
        spec.get("restartPolicy"),
        &["Always", "Never", "OnFailure"],
        true,
    );
    let dns_policy_path = child(path, "dnsPolicy");
    errs.enum_value(
        &dns_policy_path,
        spec.get("dnsPolicy"),
        &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
        true,
    );
    validate_dns_config(spec, path, errs);
    validate_labels(spec.get("nodeSelector"), &child(path, "nodeSelector"), errs);
    for (field, label_only) in [
        ("serviceAccountName", false),
        ("nodeName", false),
        ("priorityClassName", false),
        ("schedulerName", false),
        ("hostname", true),
        ("subdomain", true),
    ] {
        let fp = child(path, field);
        if let Some(v) = errs
            .string_or_report(&fp, spec.get(field))
            .filter(|s| !s.is_empty())
        {
            let msgs = if label_only {
                names::dns1123_label(v)
            } else {
                names::dns1123_subdomain(v)
            };
            errs.invalid_each(&fp, v, msgs);
        }
    }
    let ads_path = child(path, "activeDeadlineSeconds");
    if let Some(ads) = errs.int_or_report(&ads_path, spec.get("activeDeadlineSeconds")) {
        if !(1..=MAX_INT32).contains(&ads) {
            errs.invalid(
                &ads_path,
                ads,
                &format!("must be between 1 and {MAX_INT32}, inclusive"),
            );
        }
    }
    errs.nonnegative(
        &child(path, "terminationGracePeriodSeconds"),
        spec.get("terminationGracePeriodSeconds"),
    );
    errs.enum_value(
        &child(path, "preemptionPolicy"),
        spec.get("preemptionPolicy"),
        &["Never", "PreemptLowerPriority"],
        false,
    );
    validate_tolerations(
        arr_at(spec, &["tolerations"]),
        &child(path, "tolerations"),
        errs,
    );
    validate_host_aliases(
        arr_at(spec, &["hostAliases"]),
        &child(path, "hostAliases"),
        errs,
    );
    validate_scheduling_gates(spec, path, is_pod, errs);
    validate_security_context(spec, path, errs);
    for (i, s) in arr_at(spec, &["imagePullSecrets"]).iter().enumerate() {
        if str_at(s, &["name"]).unwrap_or("").is_empty() {
            errs.required(
                &child(&index(&child(path, "imagePullSecrets"), i), "name"),
                "",
            );
        }
    }
    if let Some(os) = str_at(spec, &["os", "name"]) {
        if os != "linux" && os != "windows" {
            errs.not_supported(
                &child(&child(path, "os"), "name"),
                os,
                &["linux", "windows"],
            );
        }
    }
}

fn validate_container_list(
    list: &[Value],
    kind: ContainerKind,
    path: &str,
    ctx: &ContainerCtx,
    seen: &mut HashSet<String>,
    errs: &mut Errs,
) {
    for (i, c) in list.iter().enumerate() {
        let cp = index(path, i);
        let name_path = child(&cp, "name");
        match errs.string_or_report(&name_path, c.get("name")) {
            None | Some("") => errs.required(&name_path, ""),
            Some(n) => {
                errs.invalid_each(&name_path, n, names::dns1123_label(n));
                if !seen.insert(n.to_string()) {
                    errs.duplicate(&name_path, n);
                }
            }
        }
        validate_container(c, kind, &cp, ctx, errs);
    }
}

/// Two containers may not claim the same host port/protocol/IP.
fn validate_host_ports(containers: &[Value], path: &str, errs: &mut Errs) {
    let mut seen = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        for (j, p) in arr_at(c, &["ports"]).iter().enumerate() {
            let host_port = i64_at(p, &["hostPort"]).unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                str_at(p, &["protocol"]).unwrap_or("TCP"),
                str_at(p, &["hostIP"]).unwrap_or(""),
                host_port
            );
            if !seen.insert(key.clone()) {
                let hp = child(&index(&child(&index(path, i), "ports"), j), "hostPort");
                errs.duplicate(&hp, key);
            }
        }
    }
}

fn validate_dns_config(spec: &Value, path: &str, errs: &mut Errs) {
    let cfg = spec.get("dnsConfig").filter(|v| !v.is_null());
    let cfg_path = child(path, "dnsConfig");
    if str_at(spec, &["dnsPolicy"]) == Some("None") && cfg.is_none() {
        errs.required(
            &cfg_path,
            "must provide `dnsConfig` when `dnsPolicy` is None",
        );
    }
    let Some(cfg) = cfg else { return };
    let servers = arr_at(cfg, &["nameservers"]);
    let ns_path = child(&cfg_path, "nameservers");
    if servers.len() > 3 {
        errs.invalid(
            &ns_path,
            servers.len() as i64,
            "must not have more than 3 nameservers",
        );
    }
    for (i, s) in servers.iter().enumerate() {
        let s = s.as_str().unwrap_or("");
        if !names::is_ip(s) {
            errs.invalid(&index(&ns_path, i), s, names::IP_MSG);
        }
    }
    if str_at(spec, &["dnsPolicy"]) == Some("None") && servers.is_empty() {
        errs.required(
            &ns_path,
            "must provide at least one DNS nameserver when `dnsPolicy` is None",
        );
    }
    let searches = arr_at(cfg, &["searches"]);
    let s_path = child(&cfg_path, "searches");
    if searches.len() > 32 {
        errs.invalid(
            &s_path,
            searches.len() as i64,
            "must not have more than 32 search paths",
        );
    }
    for (i, s) in searches.iter().enumerate() {
        let s = s.as_str().unwrap_or("");
        let trimmed = s.strip_suffix('.').unwrap_or(s);
        if !trimmed.is_empty() {
            errs.invalid_each(&index(&s_path, i), s, names::dns1123_subdomain(trimmed));
        }
    }
    for (i, o) in arr_at(cfg, &["options"]).iter().enumerate() {
        if str_at(o, &["name"]).unwrap_or("").is_empty() {
            errs.required(
                &child(&index(&child(&cfg_path, "options"), i), "name"),
                "Must not be empty",
            );
        }
    }
}

pub fn validate_tolerations(tols: &[Value], path: &str, errs: &mut Errs) {
    for (i, t) in tols.iter().enumerate() {
        let p = index(path, i);
        let key = str_at(t, &["key"]).unwrap_or("");
        if !key.is_empty() {
            errs.invalid_each(&child(&p, "key"), key, names::qualified_name(key));
        }
        let op = str_at(t, &["operator"]).unwrap_or("");
        let value = str_at(t, &["value"]).unwrap_or("");
        if key.is_empty() && op != "Exists" {
            errs.invalid(
                &child(&p, "operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            );
        }
        match op {
            "" | "Equal" => {
                errs.invalid_each(&child(&p, "value"), value, names::label_value(value))
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.invalid(
                        &child(&p, "operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    );
                }
            }
            other => errs.not_supported(&child(&p, "operator"), other, &["Equal", "Exists"]),
        }
        let effect = str_at(t, &["effect"]).unwrap_or("");
        if t.get("tolerationSeconds").is_some_and(|v| !v.is_null()) && effect != "NoExecute" {
            errs.invalid(
                &child(&p, "effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            );
        }
        if !effect.is_empty() && !["NoExecute", "NoSchedule", "PreferNoSchedule"].contains(&effect)
        {
            errs.not_supported(
                &child(&p, "effect"),
                effect,
                &["NoExecute", "NoSchedule", "PreferNoSchedule"],
            );
        }
    }
}

fn validate_host_aliases(aliases: &[Value], path: &str, errs: &mut Errs) {
    for (i, a) in aliases.iter().enumerate() {
        let p = index(path, i);
        match str_at(a, &["ip"]).unwrap_or("") {
            "" => errs.required(&child(&p, "ip"), ""),
            ip if !names::is_ip(ip) => errs.invalid(&child(&p, "ip"), ip, names::IP_MSG),
            _ => {}
        }
        for (j, h) in arr_at(a, &["hostnames"]).iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            errs.invalid_each(
                &index(&child(&p, "hostnames"), j),
                h,
                names::dns1123_subdomain(h),
            );
        }
    }
}

fn validate_scheduling_gates(spec: &Value, path: &str, is_pod: bool, errs: &mut Errs) {
    let gates = arr_at(spec, &["schedulingGates"]);
    let gp = child(path, "schedulingGates");
    let mut seen = HashSet::new();
    for (i, g) in gates.iter().enumerate() {
        let name = str_at(g, &["name"]).unwrap_or("");
        let np = child(&index(&gp, i), "name");
        errs.invalid_each(&np, name, names::qualified_name(name));
        if !seen.insert(name) {
            errs.duplicate(&np, name);
        }
    }
    if is_pod && !gates.is_empty() && !str_at(spec, &["nodeName"]).unwrap_or("").is_empty() {
        errs.forbidden(
            &child(path, "nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        );
    }
}

fn validate_security_context(spec: &Value, path: &str, errs: &mut Errs) {
    let Some(sc) = spec.get("securityContext").filter(|v| !v.is_null()) else {
        return;
    };
    let sp = child(path, "securityContext");
    for f in ["runAsUser", "runAsGroup", "fsGroup"] {
        if let Some(v) = i64_at(sc, &[f]) {
            if !(0..=MAX_INT32).contains(&v) {
                errs.invalid(
                    &child(&sp, f),
                    v,
                    &format!("must be between 0 and {MAX_INT32}, inclusive"),
                );
            }
        }
    }
    for (i, g) in arr_at(sc, &["supplementalGroups"]).iter().enumerate() {
        let v = g.as_i64().unwrap_or(-1);
        if !(0..=MAX_INT32).contains(&v) {
            let gp = index(&child(&sp, "supplementalGroups"), i);
            errs.invalid(
                &gp,
                v,
                &format!("must be between 0 and {MAX_INT32}, inclusive"),
            );
        }
    }
}
