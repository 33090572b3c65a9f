//! nftables rules of the built-in network, in one table owned by peapod.
//!
//! hostPorts are elements of two maps (any-address and per-address) looked up by one
//! static DNAT rule, so a pod's rules are exactly the elements whose value is its IP:
//! adding them is `create element` (a taken port fails with "File exists"), removing them
//! needs no rule handles, and reconcile drops elements that point at no live pod.
//! Rules are applied with `nft -f -`; only pods with hostPorts pay for that process.

use std::net::Ipv4Addr;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::cidr::Ipv4Cidr;
use crate::error::{NetworkError, Result};
use crate::types::{PortMapping, Protocol};

const ANY_IP_MAP: &str = "hostports";
const HOST_IP_MAP: &str = "hostports_ip";

/// Everything the static part of the table depends on.
pub(crate) struct TableSpec<'a> {
    pub table: &'a str,
    pub bridge: &'a str,
    pub pod_cidr: Ipv4Cidr,
    pub cluster_cidr: Ipv4Cidr,
    pub masquerade: bool,
}

/// One hostPort element as found in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPortElement {
    pub host_ip: Option<Ipv4Addr>,
    pub protocol: Protocol,
    pub host_port: u16,
    pub pod_ip: Ipv4Addr,
    pub container_port: u16,
}

impl HostPortElement {
    fn key(&self) -> String {
        match self.host_ip {
            Some(ip) => format!("{ip} . {} . {}", self.protocol.as_str(), self.host_port),
            None => format!("{} . {}", self.protocol.as_str(), self.host_port),
        }
    }

    fn map(&self) -> &'static str {
        if self.host_ip.is_some() {
            HOST_IP_MAP
        } else {
            ANY_IP_MAP
        }
    }
}

pub(crate) fn validate_table_name(name: &str) -> Result<()> {
    if !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(())
    } else {
        Err(NetworkError::invalid(format!(
            "nftables table name {name:?} must be [A-Za-z0-9_]{{1,64}}"
        )))
    }
}

/// Creates the table or refreshes its chains, keeping existing hostPort elements
/// (pods that survived an agent restart keep their ports).
pub(crate) async fn ensure_table(spec: &TableSpec<'_>) -> Result<()> {
    let t = spec.table;
    let mut s = format!(
        "table ip {t} {{\n\
         map {ANY_IP_MAP} {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}\n\
         map {HOST_IP_MAP} {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}\n\
         chain hostports_dnat {{ }}\n\
         chain prerouting {{ type nat hook prerouting priority -100; policy accept; }}\n\
         chain output {{ type nat hook output priority -100; policy accept; }}\n\
         chain postrouting {{ type nat hook postrouting priority 100; policy accept; }}\n\
         }}\n"
    );
    for chain in ["hostports_dnat", "prerouting", "output", "postrouting"] {
        s.push_str(&format!("flush chain ip {t} {chain}\n"));
    }
    let (pod, cluster, br) = (spec.pod_cidr, spec.cluster_cidr, spec.bridge);
    s.push_str(&format!(
        "add rule ip {t} hostports_dnat dnat to ip daddr . meta l4proto . th dport map @{HOST_IP_MAP}\n\
         add rule ip {t} hostports_dnat dnat to meta l4proto . th dport map @{ANY_IP_MAP}\n\
         add rule ip {t} prerouting fib daddr type local jump hostports_dnat\n\
         add rule ip {t} output fib daddr type local jump hostports_dnat\n\
         add rule ip {t} postrouting ip saddr 127.0.0.0/8 ct status dnat oifname \"{br}\" masquerade\n\
         add rule ip {t} postrouting ip saddr {pod} ip daddr {pod} ct status dnat masquerade\n"
    ));
    if spec.masquerade {
        s.push_str(&format!(
            "add rule ip {t} postrouting ip saddr {pod} ip daddr != {cluster} masquerade\n"
        ));
    }
    run_nft(&s).await
}

/// Removes the whole table (node decommission, tests).
pub(crate) async fn delete_table(table: &str) -> Result<()> {
    if table_exists(table).await? {
        run_nft(&format!("delete table ip {table}\n")).await?;
    }
    Ok(())
}

pub(crate) async fn table_exists(table: &str) -> Result<bool> {
    let out = nft_output(&["list", "tables", "ip"]).await?;
    Ok(out.lines().any(|l| l.trim() == format!("table ip {table}")))
}

/// Adds the pod's hostPorts; fails as a whole (nothing added) when one is taken.
pub(crate) async fn add_host_ports(
    table: &str,
    pod_ip: Ipv4Addr,
    mappings: &[PortMapping],
) -> Result<()> {
    if mappings.is_empty() {
        return Ok(());
    }
    let mut s = String::new();
    for m in mappings {
        let e = HostPortElement {
            host_ip: m.effective_host_ip(),
            protocol: m.protocol,
            host_port: m.host_port,
            pod_ip,
            container_port: m.container_port,
        };
        s.push_str(&format!(
            "create element ip {table} {} {{ {} : {} . {} }}\n",
            e.map(),
            e.key(),
            pod_ip,
            m.container_port
        ));
    }
    run_nft(&s).await.map_err(|e| match e {
        NetworkError::Nft(msg) if msg.contains("File exists") => NetworkError::PortConflict(
            format!("a hostPort of this pod is already used on the node: {msg}"),
        ),
        other => other,
    })
}

/// Deletes every hostPort element whose target pod IP satisfies `doomed`.
pub(crate) async fn remove_host_ports_where(
    table: &str,
    doomed: impl Fn(Ipv4Addr) -> bool,
) -> Result<usize> {
    let elements = list_host_ports(table).await?;
    let mut s = String::new();
    let mut n = 0;
    for e in elements.iter().filter(|e| doomed(e.pod_ip)) {
        s.push_str(&format!(
            "delete element ip {table} {} {{ {} }}\n",
            e.map(),
            e.key()
        ));
        n += 1;
    }
    if n > 0 {
        run_nft(&s).await?;
    }
    Ok(n)
}

/// All hostPort elements of the table (empty when the table does not exist).
pub(crate) async fn list_host_ports(table: &str) -> Result<Vec<HostPortElement>> {
    if !table_exists(table).await? {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for map in [ANY_IP_MAP, HOST_IP_MAP] {
        let json = nft_output(&["-j", "list", "map", "ip", table, map]).await?;
        out.extend(parse_map_elements(&json)?);
    }
    Ok(out)
}

/// Parses `nft -j list map` output of either hostPort map.
fn parse_map_elements(json: &str) -> Result<Vec<HostPortElement>> {
    let doc: Value = serde_json::from_str(json)
        .map_err(|e| NetworkError::Nft(format!("unreadable nft JSON: {e}")))?;
    let bad = || NetworkError::Nft(format!("unexpected nft map JSON: {json}"));
    let mut out = Vec::new();
    let items = doc
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or_else(bad)?;
    for item in items {
        let Some(elems) = item
            .get("map")
            .and_then(|m| m.get("elem"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for pair in elems {
            let key = pair
                .get(0)
                .and_then(|k| k.get("concat"))
                .and_then(Value::as_array)
                .ok_or_else(bad)?;
            let val = pair
                .get(1)
                .and_then(|v| v.get("concat"))
                .and_then(Value::as_array)
                .ok_or_else(bad)?;
            let (host_ip, proto, port) = match key.as_slice() {
                [p, port] => (None, p, port),
                [ip, p, port] => (Some(json_ip(ip).ok_or_else(bad)?), p, port),
                _ => return Err(bad()),
            };
            let protocol = match proto {
                Value::String(s) if s == "tcp" => Protocol::Tcp,
                Value::String(s) if s == "udp" => Protocol::Udp,
                Value::Number(n) if n.as_u64() == Some(6) => Protocol::Tcp,
                Value::Number(n) if n.as_u64() == Some(17) => Protocol::Udp,
                _ => return Err(bad()),
            };
            let [pod_ip, container_port] = val.as_slice() else {
                return Err(bad());
            };
            out.push(HostPortElement {
                host_ip,
                protocol,
                host_port: json_port(port).ok_or_else(bad)?,
                pod_ip: json_ip(pod_ip).ok_or_else(bad)?,
                container_port: json_port(container_port).ok_or_else(bad)?,
            });
        }
    }
    Ok(out)
}

fn json_ip(v: &Value) -> Option<Ipv4Addr> {
    v.as_str()?.parse().ok()
}

fn json_port(v: &Value) -> Option<u16> {
    u16::try_from(v.as_u64()?).ok()
}

async fn run_nft(script: &str) -> Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            NetworkError::Nft(format!(
                "cannot run nft (is the nftables package installed?): {e}"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .await
            .map_err(|e| NetworkError::Nft(format!("writing to nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| NetworkError::Nft(format!("waiting for nft: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NetworkError::Nft(format!(
            "{}\nscript:\n{script}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

async fn nft_output(args: &[&str]) -> Result<String> {
    let out = Command::new("nft")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| {
            NetworkError::Nft(format!(
                "cannot run nft (is the nftables package installed?): {e}"
            ))
        })?;
    if !out.status.success() {
        return Err(NetworkError::Nft(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    String::from_utf8(out.stdout)
        .map_err(|e| NetworkError::Nft(format!("nft printed non-UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_maps() {
        let any = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"map": {"family": "ip", "name": "hostports", "table": "pp", "type": ["inet_proto", "inet_service"], "handle": 5, "map": "ipv4_addr . inet_service", "elem": [[{"concat": ["udp", 53]}, {"concat": ["10.42.9.5", 5353]}], [{"concat": ["tcp", 8001]}, {"concat": ["10.42.9.5", 8080]}]]}}]}"#;
        let got = parse_map_elements(any).expect("parse");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].protocol, Protocol::Udp);
        assert_eq!(got[1].key(), "tcp . 8001");
        assert_eq!(got[1].pod_ip, Ipv4Addr::new(10, 42, 9, 5));
        let by_ip = r#"{"nftables": [{"map": {"elem": [[{"concat": ["192.0.2.9", "tcp", 8001]}, {"concat": ["10.42.9.6", 8080]}]]}}]}"#;
        let got = parse_map_elements(by_ip).expect("parse");
        assert_eq!(got[0].key(), "192.0.2.9 . tcp . 8001");
        assert_eq!(got[0].map(), HOST_IP_MAP);
        assert_eq!(
            parse_map_elements(r#"{"nftables": [{"map": {"name": "x"}}]}"#)
                .expect("empty")
                .len(),
            0
        );
        assert!(parse_map_elements("{}").is_err());
        assert!(parse_map_elements(r#"{"nftables": [{"map": {"elem": [[{"concat": ["sctp", 1]}, {"concat": ["10.0.0.1", 1]}]]}}]}"#).is_err());
    }

    #[test]
    fn table_names() {
        assert!(validate_table_name("peapod").is_ok());
        assert!(validate_table_name("peapod_t1").is_ok());
        assert!(validate_table_name("bad name").is_err());
        assert!(validate_table_name("").is_err());
    }
}
