//! Service and Endpoints rows.

use crate::access::{at, int_at, list_at, name, str_at, time_at};
use crate::column::{col, wide, Column, AGE, NAME};
use crate::duration::since;
use crate::selectors::format_labels;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// At most this many endpoints are listed before "+ N more...".
const MAX_LISTED_ENDPOINTS: usize = 3;

pub(crate) fn service_columns() -> Vec<Column> {
    vec![
        NAME,
        col("Type", "string", "How the service is exposed."),
        col(
            "Cluster-IP",
            "string",
            "The IP address of the service inside the cluster.",
        ),
        col(
            "External-IP",
            "string",
            "Addresses the service is reachable on from outside the cluster.",
        ),
        col(
            "Port(s)",
            "string",
            "The ports the service exposes (port[:nodePort]/protocol).",
        ),
        AGE,
        wide(
            "Selector",
            "string",
            "Labels of the pods traffic is routed to.",
        ),
    ]
}

pub(crate) fn service_cells(svc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let type_ = match str_at(svc, &["spec", "type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = list_at(svc, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| at(svc, &["spec", "clusterIP"]).and_then(Value::as_str))
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let ports = match port_string(svc) {
        p if p.is_empty() => "<none>".to_string(),
        p => p,
    };
    vec![
        json!(name(svc)),
        json!(type_),
        json!(cluster_ip),
        json!(external_ip(svc, type_)),
        json!(ports),
        json!(since(time_at(svc, &["metadata", "creationTimestamp"]), now)),
        json!(format_labels(at(svc, &["spec", "selector"]))),
    ]
}

fn strings(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn external_ip(svc: &Value, type_: &str) -> String {
    let external_ips = strings(list_at(svc, &["spec", "externalIPs"]));
    match type_ {
        "ClusterIP" | "NodePort" if external_ips.is_empty() => "<none>".to_string(),
        "ClusterIP" | "NodePort" => external_ips.join(","),
        "LoadBalancer" => {
            let mut all: Vec<String> = list_at(svc, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|i| {
                    let ip = str_at(i, &["ip"]);
                    let host = str_at(i, &["hostname"]);
                    let addr = if ip.is_empty() { host } else { ip };
                    (!addr.is_empty()).then(|| addr.to_string())
                })
                .collect();
            all.extend(external_ips);
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// "80/TCP,443:30443/TCP".
fn port_string(svc: &Value) -> String {
    list_at(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let protocol = match str_at(p, &["protocol"]) {
                "" => "TCP",
                proto => proto,
            };
            let port = int_at(p, &["port"]);
            match int_at(p, &["nodePort"]) {
                node_port if node_port > 0 => format!("{port}:{node_port}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn endpoints_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Endpoints",
            "string",
            "Ready addresses (ip:port) behind the service.",
        ),
        AGE,
    ]
}

pub(crate) fn endpoints_cells(ep: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(ep)),
        json!(format_endpoints(ep)),
        json!(since(time_at(ep, &["metadata", "creationTimestamp"]), now)),
    ]
}

/// Up to three ready "ip:port" pairs across subsets, then "+ N more...";
/// bare IPs for subsets without ports; "<none>" without subsets.
fn format_endpoints(ep: &Value) -> String {
    let subsets = list_at(ep, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut listed: Vec<String> = Vec::new();
    let mut total = 0usize;
    for subset in subsets {
        let addresses = list_at(subset, &["addresses"]);
        let ports = list_at(subset, &["ports"]);
        if ports.is_empty() {
            total += addresses.len();
            for addr in addresses {
                if listed.len() == MAX_LISTED_ENDPOINTS {
                    break;
                }
                listed.push(str_at(addr, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            total += addresses.len();
            for addr in addresses {
                if listed.len() == MAX_LISTED_ENDPOINTS {
                    break;
                }
                listed.push(host_port(str_at(addr, &["ip"]), int_at(port, &["port"])));
            }
        }
    }
    let text = listed.join(",");
    if total > listed.len() {
        format!("{text} + {} more...", total - listed.len())
    } else {
        text
    }
}

/// "ip:port", with IPv6 addresses in brackets.
fn host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}
