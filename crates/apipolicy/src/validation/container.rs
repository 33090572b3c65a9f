//! One container: identity, image, ports, resources, probes, lifecycle, env and mounts.

use super::env::{validate_env, validate_env_from};
use super::errors::{child, index, Errs, Shown};
use super::names;
use super::volumes::{validate_quantity_value, validate_volume_mounts};
use crate::json::{arr_at, at, i64_at, str_at};
use serde_json::Value;
use std::collections::HashSet;

/// What kind of container list is being validated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Regular,
    Init,
}

pub struct ContainerCtx<'a> {
    pub volumes: &'a HashSet<String>,
    pub grace_period: Option<i64>,
    pub host_network: bool,
    /// Pods (not templates) get a few extra checks.
    pub is_pod: bool,
}

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const PORT_RANGE_MSG: &str = "must be between 1 and 65535, inclusive";

pub fn validate_container(
    c: &Value,
    kind: ContainerKind,
    path: &str,
    ctx: &ContainerCtx,
    errs: &mut Errs,
) {
    let image_path = child(path, "image");
    match errs.string_or_report(&image_path, c.get("image")) {
        None | Some("") => errs.required(&image_path, ""),
        Some(img) => {
            if ctx.is_pod && img.trim() != img {
                errs.invalid(
                    &image_path,
                    img,
                    "must not have leading or trailing whitespace",
                );
            }
        }
    }
    errs.enum_value(
        &child(path, "imagePullPolicy"),
        c.get("imagePullPolicy"),
        &["Always", "IfNotPresent", "Never"],
        true,
    );
    errs.enum_value(
        &child(path, "terminationMessagePolicy"),
        c.get("terminationMessagePolicy"),
        &["FallbackToLogsOnError", "File"],
        true,
    );
    let restart = str_at(c, &["restartPolicy"]);
    let is_sidecar = kind == ContainerKind::Init && restart == Some("Always");
    match (kind, restart) {
        (_, None) => {}
        (ContainerKind::Regular, Some(_)) => errs.forbidden(
            &child(path, "restartPolicy"),
            "may not be set for non-init containers",
        ),
        (ContainerKind::Init, Some(r)) if r != "Always" => {
            errs.not_supported(&child(path, "restartPolicy"), r, &["Always"])
        }
        _ => {}
    }
    validate_ports(arr_at(c, &["ports"]), &child(path, "ports"), ctx, errs);
    validate_env(arr_at(c, &["env"]), &child(path, "env"), errs);
    validate_env_from(arr_at(c, &["envFrom"]), &child(path, "envFrom"), errs);
    validate_volume_mounts(
        arr_at(c, &["volumeMounts"]),
        Some(ctx.volumes),
        &child(path, "volumeMounts"),
        errs,
    );
    if let Some(res) = at(c, &["resources"]) {
        validate_resources(res, &child(path, "resources"), errs);
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(p) = c.get(probe).filter(|v| !v.is_null()) else {
            continue;
        };
        let probe_path = child(path, probe);
        if kind == ContainerKind::Init && !is_sidecar {
            errs.forbidden(
                &probe_path,
                "may not be set for init containers without restartPolicy=Always",
            );
            continue;
        }
        validate_probe(p, probe, &probe_path, errs);
    }
    if let Some(lc) = c.get("lifecycle").filter(|v| !v.is_null()) {
        let lc_path = child(path, "lifecycle");
        if kind == ContainerKind::Init && !is_sidecar {
            errs.forbidden(
                &lc_path,
                "may not be set for init containers without restartPolicy=Always",
            );
        } else {
            for hook in ["postStart", "preStop"] {
                if let Some(h) = lc.get(hook).filter(|v| !v.is_null()) {
                    validate_lifecycle_handler(h, &child(&lc_path, hook), ctx.grace_period, errs);
                }
            }
        }
    }
}

fn validate_ports(ports: &[Value], path: &str, ctx: &ContainerCtx, errs: &mut Errs) {
    let mut names_seen = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = index(path, i);
        if let Some(name) = str_at(p, &["name"]).filter(|n| !n.is_empty()) {
            errs.invalid_each(&child(&pp, "name"), name, names::port_name(name));
            if !names_seen.insert(name.to_string()) {
                errs.duplicate(&child(&pp, "name"), name);
            }
        }
        let cp_path = child(&pp, "containerPort");
        let container_port = errs.int_or_report(&cp_path, p.get("containerPort"));
        match container_port {
            // A wrongly typed port was already reported as such.
            None if p.get("containerPort").is_some_and(|v| !v.is_null()) => {}
            None | Some(0) => errs.required(&cp_path, ""),
            Some(n) if !(1..=65535).contains(&n) => errs.invalid(&cp_path, n, PORT_RANGE_MSG),
            _ => {}
        }
        let hp_path = child(&pp, "hostPort");
        let host_port = errs.int_or_report(&hp_path, p.get("hostPort"));
        if let Some(h) = host_port.filter(|h| *h != 0) {
            if !(1..=65535).contains(&h) {
                errs.invalid(&hp_path, h, PORT_RANGE_MSG);
            }
        }
        if ctx.host_network {
            if let (Some(h), Some(c)) = (host_port.filter(|h| *h != 0), container_port) {
                if h != c {
                    errs.invalid(
                        &hp_path,
                        h,
                        "must match `containerPort` when `hostNetwork` is true",
                    );
                }
            }
        }
        errs.enum_value(&child(&pp, "protocol"), p.get("protocol"), PROTOCOLS, true);
        if let Some(ip) = str_at(p, &["hostIP"]).filter(|s| !s.is_empty()) {
            if !names::is_ip(ip) {
                errs.invalid(&child(&pp, "hostIP"), ip, names::IP_MSG);
            }
        }
    }
}

fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// Requests/limits: names, quantities, and requests not above limits.
pub fn validate_resources(res: &Value, path: &str, errs: &mut Errs) {
    let limits_path = child(path, "limits");
    let requests_path = child(path, "requests");
    let mut limits = Vec::new();
    for (name, q) in res
        .get("limits")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let p = format!("{limits_path}[{name}]");
        validate_resource_name(name, &p, errs);
        if let Some(parsed) = validate_quantity_value(q, &p, errs) {
            if !is_standard_container_resource(name) && !parsed.is_integer() {
                errs.invalid(&p, Shown::json(q), "must be an integer");
            }
            limits.push((name.clone(), parsed, q.clone()));
        }
    }
    for (name, q) in res
        .get("requests")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let p = format!("{requests_path}[{name}]");
        validate_resource_name(name, &p, errs);
        let Some(parsed) = validate_quantity_value(q, &p, errs) else {
            continue;
        };
        let overcommit_allowed = matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage");
        match limits.iter().find(|(n, _, _)| n == name) {
            Some((_, lim, lim_raw)) => {
                let lim_text = Shown::json(lim_raw);
                let lim_text = match lim_text {
                    Shown::Str(s) => s,
                    Shown::Int(i) => i.to_string(),
                    _ => lim_raw.to_string(),
                };
                if !overcommit_allowed && parsed != *lim {
                    errs.invalid(
                        &requests_path,
                        Shown::json(q),
                        &format!("must be equal to {name} limit of {lim_text}"),
                    );
                } else if parsed > *lim {
                    errs.invalid(
                        &requests_path,
                        Shown::json(q),
                        &format!("must be less than or equal to {name} limit of {lim_text}"),
                    );
                }
            }
            None if !overcommit_allowed => errs.required(
                &limits_path,
                "Limit must be set for non overcommitable resources",
            ),
            None => {}
        }
    }
}

fn validate_resource_name(name: &str, path: &str, errs: &mut Errs) {
    if is_standard_container_resource(name) {
        return;
    }
    if !name.contains('/') {
        errs.invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        );
        return;
    }
    errs.invalid_each(path, name, names::qualified_name(name));
}

/// Port given as a number or an IANA service name (probes, service targetPort).
pub fn validate_port_num_or_name(port: Option<&Value>, path: &str, errs: &mut Errs) {
    match port {
        Some(Value::String(s)) => errs.invalid_each(path, s, names::port_name(s)),
        Some(v) => {
            let n = v.as_i64().unwrap_or(0);
            if !(1..=65535).contains(&n) {
                errs.invalid(path, n, PORT_RANGE_MSG);
            }
        }
        None => errs.invalid(path, 0, PORT_RANGE_MSG),
    }
}

fn validate_handler_action(kind: &str, action: &Value, path: &str, errs: &mut Errs) {
    match kind {
        "exec" if arr_at(action, &["command"]).is_empty() => {
            errs.required(&child(path, "command"), "");
        }
        "httpGet" => {
            if str_at(action, &["path"]).unwrap_or("").is_empty() {
                errs.required(&child(path, "path"), "");
            }
            validate_port_num_or_name(action.get("port"), &child(path, "port"), errs);
            errs.enum_value(
                &child(path, "scheme"),
                action.get("scheme"),
                &["HTTP", "HTTPS"],
                true,
            );
            for (i, h) in arr_at(action, &["httpHeaders"]).iter().enumerate() {
                let name = str_at(h, &["name"]).unwrap_or("");
                let token = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !token {
                    let hp = child(&index(&child(path, "httpHeaders"), i), "name");
                    errs.invalid(&hp, name, "a valid HTTP header must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
                }
            }
        }
        "tcpSocket" => validate_port_num_or_name(action.get("port"), &child(path, "port"), errs),
        "grpc" => {
            let n = i64_at(action, &["port"]).unwrap_or(0);
            if !(1..=65535).contains(&n) {
                errs.invalid(&child(path, "port"), n, PORT_RANGE_MSG);
            }
        }
        _ => {}
    }
}

/// Checks that exactly one handler among `kinds` is set and validates it.
fn validate_one_handler(h: &Value, kinds: &[&str], path: &str, errs: &mut Errs) -> Option<String> {
    let set: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| h.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if set.is_empty() {
        errs.required(path, "must specify a handler type");
        return None;
    }
    for extra in &set[1..] {
        errs.forbidden(
            &child(path, extra),
            "may not specify more than 1 handler type",
        );
    }
    validate_handler_action(set[0], &h[set[0]], &child(path, set[0]), errs);
    Some(set[0].to_string())
}

fn validate_probe(p: &Value, which: &str, path: &str, errs: &mut Errs) {
    validate_one_handler(p, &["exec", "httpGet", "tcpSocket", "grpc"], path, errs);
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        errs.nonnegative(&child(path, f), p.get(f));
    }
    if which != "readinessProbe" {
        if let Some(s) = i64_at(p, &["successThreshold"]).filter(|s| *s != 1) {
            errs.invalid(&child(path, "successThreshold"), s, "must be 1");
        }
    }
    if let Some(t) = i64_at(p, &["terminationGracePeriodSeconds"]) {
        let tp = child(path, "terminationGracePeriodSeconds");
        if which == "readinessProbe" {
            errs.invalid(&tp, t, "must not be set for readinessProbes");
        } else if t <= 0 {
            errs.invalid(&tp, t, "must be greater than 0");
        }
    }
}

fn validate_lifecycle_handler(h: &Value, path: &str, grace: Option<i64>, errs: &mut Errs) {
    let kind = validate_one_handler(h, &["exec", "httpGet", "tcpSocket", "sleep"], path, errs);
    if kind.as_deref() == Some("sleep") {
        let secs = i64_at(h, &["sleep", "seconds"]).unwrap_or(0);
        if let Some(g) = grace {
            if secs < 0 || secs > g {
                errs.invalid(
                    &child(path, "sleep"),
                    secs,
                    &format!(
                        "must be non-negative and less than terminationGracePeriodSeconds ({g})"
                    ),
                );
            }
        }
    }
}
