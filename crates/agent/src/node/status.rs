//! The Node's status (capacity, allocatable, addresses, nodeInfo, conditions) as a pure
//! function of the measured machine and the previous conditions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{
    ContainerImage, DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::machine::{Machine, MAX_PODS};

pub const KUBELET_VERSION: &str = "v1.33.1";

/// The four conditions with kubelet's reasons and messages.
const CONDITIONS: [(&str, &str, &str, &str); 4] = [
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    (
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
    ),
    (
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ),
    (
        "Ready",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    ),
];

pub struct NodeStatusInput<'a> {
    pub machine: &'a Machine,
    pub previous: &'a [NodeCondition],
    pub now: DateTime<Utc>,
    pub streaming_port: u16,
    pub images: Vec<ContainerImage>,
}

pub fn node_status(input: &NodeStatusInput<'_>) -> NodeStatus {
    let m = input.machine;
    let q = |s: String| Quantity(s);
    let capacity: BTreeMap<String, Quantity> = [
        ("cpu".to_string(), q(m.cpus.to_string())),
        (
            "memory".to_string(),
            q(format!("{}Ki", m.memory_bytes / 1024)),
        ),
        ("pods".to_string(), q(MAX_PODS.to_string())),
        (
            "ephemeral-storage".to_string(),
            q(format!("{}Ki", m.ephemeral_storage_bytes / 1024)),
        ),
    ]
    .into();
    let allocatable: BTreeMap<String, Quantity> = [
        ("cpu".to_string(), q(m.cpus.to_string())),
        (
            "memory".to_string(),
            q(format!("{}Ki", m.allocatable_memory() / 1024)),
        ),
        ("pods".to_string(), q(MAX_PODS.to_string())),
        (
            "ephemeral-storage".to_string(),
            q(m.allocatable_storage().to_string()),
        ),
    ]
    .into();
    let conditions = CONDITIONS
        .iter()
        .map(|(kind, status, reason, message)| {
            let prev = input.previous.iter().find(|c| c.type_ == *kind);
            let transition = match prev {
                Some(p) if p.status == *status => p
                    .last_transition_time
                    .clone()
                    .unwrap_or(crate::timeconv::time(input.now)),
                _ => crate::timeconv::time(input.now),
            };
            NodeCondition {
                type_: kind.to_string(),
                status: status.to_string(),
                reason: Some(reason.to_string()),
                message: Some(message.to_string()),
                last_heartbeat_time: Some(crate::timeconv::time(input.now)),
                last_transition_time: Some(transition),
            }
        })
        .collect();
    NodeStatus {
        capacity: Some(capacity),
        allocatable: Some(allocatable),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: m.host_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: m.hostname.clone(),
            },
        ]),
        conditions: Some(conditions),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(input.streaming_port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: "amd64".into(),
            boot_id: m.boot_id.clone(),
            container_runtime_version: format!("peapod://{}", env!("CARGO_PKG_VERSION")),
            kernel_version: m.kernel_version.clone(),
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.into(),
            machine_id: m.machine_id.clone(),
            operating_system: "linux".into(),
            os_image: m.os_image.clone(),
            system_uuid: m.system_uuid.clone(),
            ..Default::default()
        }),
        images: Some(input.images.clone()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn machine() -> Machine {
        Machine {
            cpus: 2,
            memory_bytes: 4 << 30,
            ephemeral_storage_bytes: 100 << 30,
            host_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
            hostname: "box".into(),
            kernel_version: "6.1.0".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            machine_id: "m".into(),
            boot_id: "b".into(),
            system_uuid: "u".into(),
        }
    }

    #[test]
    fn capacity_allocatable_and_conditions() {
        let m = machine();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let s = node_status(&NodeStatusInput {
            machine: &m,
            previous: &[],
            now: t0,
            streaming_port: 10250,
            images: vec![],
        });
        let cap = s.capacity.as_ref().unwrap();
        assert_eq!(cap["cpu"].0, "2");
        assert_eq!(cap["memory"].0, "4194304Ki");
        assert_eq!(cap["pods"].0, "110");
        let alloc = s.allocatable.as_ref().unwrap();
        assert_eq!(
            alloc["memory"].0,
            format!("{}Ki", (4u64 << 20) - (100 << 10))
        );
        let info = s.node_info.as_ref().unwrap();
        assert!(info.container_runtime_version.starts_with("peapod://"));
        assert_eq!(info.kubelet_version, "v1.33.1");
        let conds = s.conditions.clone().unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));

        // A later heartbeat keeps the transition time and moves the heartbeat.
        let t1 = t0 + chrono::Duration::seconds(10);
        let s2 = node_status(&NodeStatusInput {
            machine: &m,
            previous: &conds,
            now: t1,
            streaming_port: 10250,
            images: vec![],
        });
        let ready2 = s2
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready2.last_transition_time, Some(crate::timeconv::time(t0)));
        assert_eq!(ready2.last_heartbeat_time, Some(crate::timeconv::time(t1)));
    }
}
