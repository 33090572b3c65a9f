//! Reading what the pod got out of a CNI result (spec 0.3.0 and later format).

use std::net::IpAddr;

use serde_json::Value;

use crate::error::{NetworkError, Result};
use crate::types::PodNetworkStatus;

/// Extracts the pod's addresses and MAC from the final result of a plugin list.
///
/// Addresses attached to an interface inside the sandbox come first; addresses without
/// an interface index are kept too (plugins may omit it).
pub(crate) fn status_from_result(result: &Value, ifname: &str) -> Result<PodNetworkStatus> {
    let ips = result.get("ips").and_then(Value::as_array).ok_or_else(|| {
        NetworkError::Cni(format!(
            "result has no \"ips\" (unsupported result version?): {result}"
        ))
    })?;
    let interfaces = result
        .get("interfaces")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let in_sandbox = |idx: Option<u64>| -> Option<bool> {
        let iface = interfaces.get(usize::try_from(idx?).ok()?)?;
        Some(
            iface
                .get("sandbox")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
        )
    };
    let mut pod_ips = Vec::new();
    let mut other_ips = Vec::new();
    for entry in ips {
        let address = entry
            .get("address")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                NetworkError::Cni(format!("result ip entry without address: {entry}"))
            })?;
        let ip: IpAddr = address
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| {
                NetworkError::Cni(format!("result address {address:?} is not an IP/prefix"))
            })?;
        match in_sandbox(entry.get("interface").and_then(Value::as_u64)) {
            Some(false) => other_ips.push(ip),
            _ => pod_ips.push(ip),
        }
    }
    if pod_ips.is_empty() {
        pod_ips = other_ips;
    }
    if pod_ips.is_empty() {
        return Err(NetworkError::Cni(
            "plugins returned no IP address for the pod".into(),
        ));
    }
    // IPv4 first: podIP is the first entry.
    pod_ips.sort_by_key(|ip| ip.is_ipv6());
    let mac = interfaces
        .iter()
        .find(|i| {
            i.get("name").and_then(Value::as_str) == Some(ifname)
                && i.get("sandbox")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
        })
        .and_then(|i| i.get("mac").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    Ok(PodNetworkStatus {
        ips: pod_ips,
        mac,
        interface: ifname.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bridge_result() {
        let result = json!({
            "cniVersion": "1.0.0",
            "interfaces": [
                {"name": "cni0", "mac": "aa:aa:aa:aa:aa:aa"},
                {"name": "veth1", "mac": "bb:bb:bb:bb:bb:bb"},
                {"name": "eth0", "mac": "cc:cc:cc:cc:cc:cc", "sandbox": "/run/netns/x"}
            ],
            "ips": [
                {"address": "fd00::5/64", "interface": 2},
                {"address": "10.244.1.5/24", "gateway": "10.244.1.1", "interface": 2}
            ]
        });
        let st = status_from_result(&result, "eth0").expect("parse");
        assert_eq!(st.ips[0].to_string(), "10.244.1.5");
        assert_eq!(st.ips[1].to_string(), "fd00::5");
        assert_eq!(st.mac, "cc:cc:cc:cc:cc:cc");
    }

    #[test]
    fn rejects_unusable_results() {
        assert!(status_from_result(&json!({"ip4": {"ip": "10.0.0.2/24"}}), "eth0").is_err());
        assert!(status_from_result(&json!({"ips": []}), "eth0").is_err());
        assert!(status_from_result(&json!({"ips": [{"address": "nope"}]}), "eth0").is_err());
    }
}
