//! A node together with what is already placed on it: the view every filter and score reads.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use peapod_apimachinery::quantity::Quantity;

use crate::requests::{self, Missing, RequestsError, Resources, PODS};

/// A host port a pod holds on its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// `0.0.0.0` when the pod did not name an address (it then holds the port on every address).
    pub ip: String,
    pub protocol: String,
    pub port: i32,
}

impl HostPort {
    /// Two uses conflict on the same port and protocol when either holds every address or both
    /// name the same one.
    pub fn conflicts_with(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.ip == ANY_IP || other.ip == ANY_IP)
    }
}

const ANY_IP: &str = "0.0.0.0";

/// The host ports a pod's app containers ask for (ports without a hostPort take none).
pub fn pod_host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|hp| *hp > 0)?;
            let ip = p
                .host_ip
                .as_deref()
                .filter(|ip| !ip.is_empty())
                .unwrap_or(ANY_IP)
                .to_string();
            let protocol = p
                .protocol
                .as_deref()
                .filter(|pr| !pr.is_empty())
                .unwrap_or("TCP")
                .to_string();
            Some(HostPort { ip, protocol, port })
        })
        .collect()
}

/// What one placed pod holds on its node.
#[derive(Debug, Clone)]
pub struct PlacedPod {
    pub uid: String,
    /// `namespace/name`, for messages and logs.
    pub key: String,
    pub priority: i32,
    pub requests: Resources,
    pub non_zero_requests: Resources,
    pub host_ports: Vec<HostPort>,
    /// Being deleted (still holds its resources until it is gone).
    pub terminating: bool,
}

impl PlacedPod {
    pub fn from_pod(pod: &Pod) -> Result<Self, RequestsError> {
        let spec = pod.spec.clone().unwrap_or_default();
        Ok(PlacedPod {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            key: pod_key(pod),
            priority: spec.priority.unwrap_or(0),
            requests: requests::pod_requests(&spec, Missing::Zero)?,
            non_zero_requests: requests::pod_requests(&spec, Missing::Defaulted)?,
            host_ports: pod_host_ports(pod),
            terminating: pod.metadata.deletion_timestamp.is_some(),
        })
    }
}

pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

/// A node, its allocatable resources and the pods placed on it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub node: Arc<Node>,
    pub allocatable: Resources,
    pub allowed_pods: i64,
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pods: Vec<PlacedPod>,
}

impl NodeInfo {
    /// Reads the node's `status.allocatable`. A malformed quantity counts as zero (logged): the node
    /// then simply cannot offer that resource.
    pub fn new(node: Arc<Node>) -> Self {
        let mut allocatable = Resources::default();
        let mut allowed_pods = 0;
        if let Some(list) = node.status.as_ref().and_then(|s| s.allocatable.as_ref()) {
            for (name, q) in list {
                let value = match Quantity::parse(&q.0) {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(
                            node = node.metadata.name.as_deref(),
                            "allocatable {name}: {e}"
                        );
                        continue;
                    }
                };
                match name.as_str() {
                    requests::CPU => allocatable.milli_cpu = value.milli_value(),
                    requests::MEMORY => allocatable.memory = value.value(),
                    requests::EPHEMERAL_STORAGE => allocatable.ephemeral_storage = value.value(),
                    PODS => allowed_pods = value.value(),
                    other => {
                        allocatable.scalar.insert(other.to_string(), value.value());
                    }
                }
            }
        }
        NodeInfo {
            node,
            allocatable,
            allowed_pods,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn add_pod(&mut self, pod: PlacedPod) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero_requests);
        self.pods.push(pod);
    }

    pub fn remove_pod(&mut self, uid: &str) -> Option<PlacedPod> {
        let idx = self.pods.iter().position(|p| p.uid == uid)?;
        let pod = self.pods.remove(idx);
        self.requested.subtract(&pod.requests);
        self.non_zero_requested.subtract(&pod.non_zero_requests);
        Some(pod)
    }

    pub fn used_ports(&self) -> impl Iterator<Item = &HostPort> {
        self.pods.iter().flat_map(|p| p.host_ports.iter())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, NodeStatus, PodSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn node(name: &str, cpu: &str, memory: &str, pods: &str) -> Node {
        let alloc = [("cpu", cpu), ("memory", memory), ("pods", pods)]
            .iter()
            .map(|(k, v)| (k.to_string(), ApiQuantity(v.to_string())))
            .collect();
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            status: Some(NodeStatus {
                allocatable: Some(alloc),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn placed(uid: &str, milli_cpu: i64, memory: i64) -> PlacedPod {
        let r = Resources {
            milli_cpu,
            memory,
            ..Default::default()
        };
        PlacedPod {
            uid: uid.into(),
            key: format!("default/{uid}"),
            priority: 0,
            requests: r.clone(),
            non_zero_requests: r,
            host_ports: vec![],
            terminating: false,
        }
    }

    #[test]
    fn allocatable_is_parsed_and_pods_accounted() {
        let mut info = NodeInfo::new(Arc::new(node("n", "2", "4Gi", "110")));
        assert_eq!(info.allocatable.milli_cpu, 2000);
        assert_eq!(info.allocatable.memory, 4 << 30);
        assert_eq!(info.allowed_pods, 110);
        info.add_pod(placed("a", 500, 1 << 30));
        info.add_pod(placed("b", 250, 1 << 20));
        assert_eq!(info.requested.milli_cpu, 750);
        assert!(info.remove_pod("a").is_some());
        assert_eq!(info.requested.milli_cpu, 250);
        assert_eq!(info.requested.memory, 1 << 20);
        assert!(info.remove_pod("zzz").is_none());
    }

    #[test]
    fn bad_allocatable_counts_as_zero() {
        let info = NodeInfo::new(Arc::new(node("n", "two", "4Gi", "110")));
        assert_eq!(info.allocatable.milli_cpu, 0);
        assert_eq!(info.allocatable.memory, 4 << 30);
    }

    pub fn pod_with_ports(ports: Vec<ContainerPort>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![k8s_openapi::api::core::v1::Container {
                    name: "c".into(),
                    ports: Some(ports),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn host_ports_default_ip_and_protocol() {
        let pod = pod_with_ports(vec![
            ContainerPort {
                container_port: 80,
                host_port: Some(8080),
                ..Default::default()
            },
            ContainerPort {
                container_port: 81,
                ..Default::default()
            },
            ContainerPort {
                container_port: 53,
                host_port: Some(53),
                protocol: Some("UDP".into()),
                host_ip: Some("127.0.0.1".into()),
                ..Default::default()
            },
        ]);
        assert_eq!(
            pod_host_ports(&pod),
            vec![
                HostPort {
                    ip: "0.0.0.0".into(),
                    protocol: "TCP".into(),
                    port: 8080
                },
                HostPort {
                    ip: "127.0.0.1".into(),
                    protocol: "UDP".into(),
                    port: 53
                },
            ]
        );
    }

    #[test]
    fn host_port_conflicts() {
        let hp = |ip: &str, proto: &str, port| HostPort {
            ip: ip.into(),
            protocol: proto.into(),
            port,
        };
        assert!(hp("0.0.0.0", "TCP", 80).conflicts_with(&hp("10.0.0.1", "TCP", 80)));
        assert!(hp("10.0.0.1", "TCP", 80).conflicts_with(&hp("0.0.0.0", "TCP", 80)));
        assert!(hp("10.0.0.1", "TCP", 80).conflicts_with(&hp("10.0.0.1", "TCP", 80)));
        assert!(!hp("10.0.0.1", "TCP", 80).conflicts_with(&hp("10.0.0.2", "TCP", 80)));
        assert!(!hp("0.0.0.0", "TCP", 80).conflicts_with(&hp("0.0.0.0", "UDP", 80)));
        assert!(!hp("0.0.0.0", "TCP", 80).conflicts_with(&hp("0.0.0.0", "TCP", 81)));
    }
}
