//! core/v1 Service.

use super::container::validate_port_num_or_name;
use super::errors::{child, index, Errs, Shown};
use super::metadata::validate_labels;
use super::names;
use crate::json::{arr_at, i64_at, str_at};
use serde_json::Value;
use std::collections::HashSet;

const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

pub fn validate_service(svc: &Value, errs: &mut Errs) {
    let spec = svc.get("spec").unwrap_or(&Value::Null);
    let ty = str_at(spec, &["type"]).unwrap_or("");
    errs.enum_value("spec.type", spec.get("type"), TYPES, true);
    let cluster_ip = str_at(spec, &["clusterIP"]).unwrap_or("");
    let headless = cluster_ip == "None";
    if ty == "ExternalName" {
        match str_at(spec, &["externalName"]).unwrap_or("") {
            "" => errs.required("spec.externalName", ""),
            n => {
                let n = n.strip_suffix('.').unwrap_or(n);
                errs.invalid_each("spec.externalName", n, names::dns1123_subdomain(n));
            }
        }
    }
    let ports = arr_at(spec, &["ports"]);
    if ports.is_empty() && ty != "ExternalName" && !headless {
        errs.required("spec.ports", "");
    }
    let mut port_names = HashSet::new();
    let mut port_keys = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = index("spec.ports", i);
        let name = str_at(p, &["name"]).unwrap_or("");
        if name.is_empty() {
            if ports.len() > 1 {
                errs.required(&child(&pp, "name"), "");
            }
        } else {
            errs.invalid_each(&child(&pp, "name"), name, names::dns1123_label(name));
            if !port_names.insert(name.to_string()) {
                errs.duplicate(&child(&pp, "name"), name);
            }
        }
        let port = errs
            .int_or_report(&child(&pp, "port"), p.get("port"))
            .unwrap_or(0);
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
        if p.get("targetPort").is_some_and(|t| !t.is_null()) {
            validate_port_num_or_name(p.get("targetPort"), &child(&pp, "targetPort"), errs);
        }
        if let Some(np) = i64_at(p, &["nodePort"]).filter(|n| *n != 0) {
            if ty != "NodePort" && ty != "LoadBalancer" {
                errs.forbidden(
                    &child(&pp, "nodePort"),
                    &format!("may not be used when `type` is '{ty}'"),
                );
            } else if !(1..=65535).contains(&np) {
                errs.invalid(
                    &child(&pp, "nodePort"),
                    np,
                    "must be between 1 and 65535, inclusive",
                );
            }
        }
        let key = format!("{}/{}", port, str_at(p, &["protocol"]).unwrap_or("TCP"));
        if !port_keys.insert(key.clone()) {
            errs.duplicate(&pp, key);
        }
    }
    if !cluster_ip.is_empty() && !headless && !names::is_ip(cluster_ip) {
        errs.invalid("spec.clusterIPs[0]", cluster_ip, names::IP_MSG);
    }
    for (i, ip) in arr_at(spec, &["clusterIPs"]).iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        if ip != "None" && !names::is_ip(ip) && !(i == 0 && ip == cluster_ip) {
            errs.invalid(&index("spec.clusterIPs", i), ip, names::IP_MSG);
        }
    }
    for (i, ip) in arr_at(spec, &["externalIPs"]).iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        if !names::is_ip(ip) {
            errs.invalid(&index("spec.externalIPs", i), ip, names::IP_MSG);
        }
    }
    validate_labels(spec.get("selector"), "spec.selector", errs);
    errs.enum_value(
        "spec.sessionAffinity",
        spec.get("sessionAffinity"),
        &["ClientIP", "None"],
        true,
    );
    if let Some(t) = i64_at(
        spec,
        &["sessionAffinityConfig", "clientIP", "timeoutSeconds"],
    ) {
        if !(1..=86400).contains(&t) {
            errs.invalid(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                t,
                "must be greater than 0 and less than 86400",
            );
        }
    }
    if let Some(etp) = str_at(spec, &["externalTrafficPolicy"]).filter(|s| !s.is_empty()) {
        if ty != "NodePort" && ty != "LoadBalancer" {
            errs.invalid(
                "spec.externalTrafficPolicy",
                etp,
                "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
            );
        } else if etp != "Cluster" && etp != "Local" {
            errs.not_supported("spec.externalTrafficPolicy", etp, &["Cluster", "Local"]);
        }
    }
    errs.enum_value(
        "spec.internalTrafficPolicy",
        spec.get("internalTrafficPolicy"),
        &["Cluster", "Local"],
        false,
    );
    errs.enum_value(
        "spec.ipFamilyPolicy",
        spec.get("ipFamilyPolicy"),
        &["PreferDualStack", "RequireDualStack", "SingleStack"],
        false,
    );
    let families = arr_at(spec, &["ipFamilies"]);
    if families.len() > 2 {
        errs.too_many("spec.ipFamilies", families.len(), 2);
    }
    for (i, f) in families.iter().enumerate() {
        errs.enum_value(
            &index("spec.ipFamilies", i),
            Some(f),
            &["IPv4", "IPv6"],
            true,
        );
    }
}

pub fn validate_service_update(old: &Value, new: &Value, errs: &mut Errs) {
    let ty = |v: &Value| str_at(v, &["spec", "type"]).unwrap_or("").to_string();
    if ty(old) == "ExternalName" || ty(new) == "ExternalName" {
        return;
    }
    let old_ip = str_at(old, &["spec", "clusterIP"]).unwrap_or("");
    let new_ip = str_at(new, &["spec", "clusterIP"]).unwrap_or("");
    if !old_ip.is_empty() && new_ip.is_empty() {
        errs.invalid(
            "spec.clusterIPs[0]",
            Shown::Raw("[]string(nil)".into()),
            "primary clusterIP can not be unset",
        );
    } else if !old_ip.is_empty() && old_ip != new_ip {
        errs.invalid("spec.clusterIPs[0]", new_ip, "may not change once set");
    }
}
