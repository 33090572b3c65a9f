//! The interface the node agent uses: one request per pod sandbox, one trait for
//! both the built-in network and CNI plugins.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::error::{NetworkError, Result};

/// Boxed future so `PodNetwork` stays object safe (`Box<dyn PodNetwork>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Transport protocol of a hostPort mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// Parses the Kubernetes spelling (`TCP`, `UDP`; empty means TCP).
    pub fn from_k8s(s: &str) -> Result<Self> {
        match s {
            "" | "TCP" | "tcp" => Ok(Protocol::Tcp),
            "UDP" | "udp" => Ok(Protocol::Udp),
            other => Err(NetworkError::invalid(format!(
                "unsupported hostPort protocol {other:?} (TCP or UDP)"
            ))),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A container port exposed on the node (`containers[].ports[].hostPort`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
    /// Node address to bind; `None` (or 0.0.0.0) means every node address and 127.0.0.1.
    pub host_ip: Option<Ipv4Addr>,
}

impl PortMapping {
    /// The host IP that actually restricts the mapping (0.0.0.0 counts as none).
    pub fn effective_host_ip(&self) -> Option<Ipv4Addr> {
        self.host_ip.filter(|ip| !ip.is_unspecified())
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.host_port == 0 || self.container_port == 0 {
            return Err(NetworkError::invalid(format!(
                "port mapping {}:{} must use ports 1-65535",
                self.host_port, self.container_port
            )));
        }
        Ok(())
    }
}

/// Everything needed to attach one pod sandbox to the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodNetworkRequest {
    pub pod_namespace: String,
    pub pod_name: String,
    pub pod_uid: String,
    /// Runtime id of the sandbox; the key of every later call.
    pub sandbox_id: String,
    /// Network namespace held by the sandbox (`/proc/<pid>/ns/net` or a bind-mounted file).
    pub netns_path: PathBuf,
    pub port_mappings: Vec<PortMapping>,
}

impl PodNetworkRequest {
    pub(crate) fn validate(&self) -> Result<()> {
        validate_sandbox_id(&self.sandbox_id)?;
        for m in &self.port_mappings {
            m.validate()?;
        }
        for (i, a) in self.port_mappings.iter().enumerate() {
            for b in &self.port_mappings[i + 1..] {
                let same_ip = a.effective_host_ip().is_none()
                    || b.effective_host_ip().is_none()
                    || a.effective_host_ip() == b.effective_host_ip();
                if a.host_port == b.host_port && a.protocol == b.protocol && same_ip {
                    return Err(NetworkError::PortConflict(format!(
                        "hostPort {}/{} appears twice in the pod",
                        a.host_port,
                        a.protocol.as_str()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Sandbox ids become file names and CNI container ids: keep them boring.
pub(crate) fn validate_sandbox_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(NetworkError::invalid(format!(
            "sandbox id {id:?} must be 1-128 characters of [A-Za-z0-9._-] not starting with '.'"
        )))
    }
}

/// What the pod got: its addresses (podIP first) and its interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodNetworkStatus {
    pub ips: Vec<IpAddr>,
    /// MAC address of the pod interface, `aa:bb:cc:dd:ee:ff`, empty when unknown.
    pub mac: String,
    /// Interface name inside the pod (`eth0`).
    pub interface: String,
}

/// Pod network mechanism, called by the node agent around the sandbox lifecycle.
///
/// `hostNetwork: true` pods must not be passed here: they use the node's network
/// namespace and their podIP is the node's InternalIP.
pub trait PodNetwork: Send + Sync {
    /// Attaches the sandbox's network namespace; safe to call again for the same sandbox
    /// (the previous attachment is replaced).
    fn setup<'a>(&'a self, req: &'a PodNetworkRequest) -> BoxFuture<'a, Result<PodNetworkStatus>>;

    /// Detaches the sandbox and releases its address and rules. Works when the
    /// namespace is already gone (`netns_path` may be `None`) and after a restart.
    fn teardown<'a>(
        &'a self,
        sandbox_id: &'a str,
        netns_path: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>>;

    /// Releases everything held for sandboxes not in `live_sandbox_ids`
    /// (call at agent start, before new setups).
    fn reconcile<'a>(&'a self, live_sandbox_ids: &'a [String]) -> BoxFuture<'a, Result<()>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(maps: Vec<PortMapping>) -> PodNetworkRequest {
        PodNetworkRequest {
            pod_namespace: "default".into(),
            pod_name: "p".into(),
            pod_uid: "u".into(),
            sandbox_id: "abc".into(),
            netns_path: "/proc/1/ns/net".into(),
            port_mappings: maps,
        }
    }

    fn pm(host: u16, proto: Protocol, ip: Option<Ipv4Addr>) -> PortMapping {
        PortMapping {
            host_port: host,
            container_port: 80,
            protocol: proto,
            host_ip: ip,
        }
    }

    #[test]
    fn sandbox_ids() {
        assert!(validate_sandbox_id("0123abc-def_x.y").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(validate_sandbox_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_host_ports_in_one_pod() {
        assert!(req(vec![
            pm(80, Protocol::Tcp, None),
            pm(80, Protocol::Udp, None)
        ])
        .validate()
        .is_ok());
        assert!(req(vec![
            pm(80, Protocol::Tcp, None),
            pm(80, Protocol::Tcp, None)
        ])
        .validate()
        .is_err());
        let a = Some(Ipv4Addr::new(192, 0, 2, 1));
        let b = Some(Ipv4Addr::new(192, 0, 2, 2));
        assert!(
            req(vec![pm(80, Protocol::Tcp, a), pm(80, Protocol::Tcp, b)])
                .validate()
                .is_ok()
        );
        assert!(
            req(vec![pm(80, Protocol::Tcp, a), pm(80, Protocol::Tcp, None)])
                .validate()
                .is_err()
        );
        assert!(req(vec![pm(0, Protocol::Tcp, None)]).validate().is_err());
    }

    #[test]
    fn protocol_spelling() {
        assert_eq!(Protocol::from_k8s("").ok(), Some(Protocol::Tcp));
        assert_eq!(Protocol::from_k8s("UDP").ok(), Some(Protocol::Udp));
        assert!(Protocol::from_k8s("SCTP").is_err());
    }
}
