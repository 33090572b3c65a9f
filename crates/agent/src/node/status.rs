//! The Node's status (capacity, allocatable, addresses, nodeInfo, conditions) as a pure
//! function of the measured machine and the previous conditions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{
    ContainerImage, DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::eviction::EvictionThresholds;
use super::machine::{Machine, MAX_PODS};
use super::pressure::Pressure;

pub use peapod_apimachinery::well_known::KUBERNETES_VERSION as KUBELET_VERSION;

/// (type, status, reason, message) of the four conditions, with kubelet's wording.
fn condition_facts(p: Pressure) -> [(&'static str, bool, &'static str, &'static str); 4] {
    let pick =
        |under: bool, yes: (&'static str, &'static str), no: (&'static str, &'static str)| {
            if under {
                yes
            } else {
                no
            }
        };
    let mem = pick(
        p.memory,
        (
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        ),
        (
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
    );
    let disk = pick(
        p.disk,
        ("KubeletHasDiskPressure", "kubelet has disk pressure"),
        ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    );
    let pid = pick(
        p.pid,
        (
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
        ),
        (
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
    );
    [
        ("MemoryPressure", p.memory, mem.0, mem.1),
        ("DiskPressure", p.disk, disk.0, disk.1),
        ("PIDPressure", p.pid, pid.0, pid.1),
        // Pressure does not make a kubelet NotReady: it evicts and keeps posting Ready.
        (
            "Ready",
            true,
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ]
}

pub struct NodeStatusInput<'a> {
    pub machine: &'a Machine,
    pub previous: &'a [NodeCondition],
    pub now: DateTime<Utc>,
    pub streaming_port: u16,
    pub images: Vec<ContainerImage>,
    pub pressure: Pressure,
    /// Held back from allocatable.
    pub eviction: &'a EvictionThresholds,
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
            q(format!("{}Ki", m.allocatable_memory(input.eviction) / 1024)),
        ),
        ("pods".to_string(), q(MAX_PODS.to_string())),
        (
            "ephemeral-storage".to_string(),
            q(m.allocatable_storage(input.eviction).to_string()),
        ),
    ]
    .into();
    let conditions = condition_facts(input.pressure)
        .into_iter()
        .map(|(kind, status, reason, message)| {
            let status = if status { "True" } else { "False" };
            let prev = input.previous.iter().find(|c| c.type_ == kind);
            let transition = match prev {
                Some(p) if p.status == status => p
                    .last_transition_time
                    .clone()
                    .unwrap_or(peapod_apimachinery::timeconv::time(input.now)),
                _ => peapod_apimachinery::timeconv::time(input.now),
            };
            NodeCondition {
                type_: kind.to_string(),
                status: status.to_string(),
                reason: Some(reason.to_string()),
                message: Some(message.to_string()),
                last_heartbeat_time: Some(peapod_apimachinery::timeconv::time(input.now)),
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
            architecture: super::machine::go_arch().into(),
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
            pressure: Pressure::default(),
            eviction: &EvictionThresholds::default(),
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
            pressure: Pressure::default(),
            eviction: &EvictionThresholds::default(),
        });
        let ready2 = s2
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            ready2.last_transition_time,
            Some(peapod_apimachinery::timeconv::time(t0))
        );
        assert_eq!(
            ready2.last_heartbeat_time,
            Some(peapod_apimachinery::timeconv::time(t1))
        );
    }

    #[test]
    fn pressure_conditions_follow_readings_and_keep_transition_times() {
        let m = machine();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = |secs: i64, previous: &[NodeCondition], pressure: Pressure| {
            node_status(&NodeStatusInput {
                machine: &m,
                previous,
                now: t0 + chrono::Duration::seconds(secs),
                streaming_port: 10250,
                images: vec![],
                pressure,
                eviction: &EvictionThresholds::default(),
            })
            .conditions
            .unwrap()
        };
        let find = |conds: &[NodeCondition], kind: &str| {
            conds.iter().find(|c| c.type_ == kind).cloned().unwrap()
        };
        let calm = at(0, &[], Pressure::default());
        let mem = find(&calm, "MemoryPressure");
        assert_eq!(
            (
                mem.status.as_str(),
                mem.reason.as_deref(),
                mem.message.as_deref()
            ),
            (
                "False",
                Some("KubeletHasSufficientMemory"),
                Some("kubelet has sufficient memory available")
            )
        );
        assert_eq!(
            find(&calm, "PIDPressure").reason.as_deref(),
            Some("KubeletHasSufficientPID")
        );

        let squeezed = Pressure {
            memory: true,
            disk: true,
            pid: true,
        };
        let hot = at(10, &calm, squeezed);
        let expect = [
            (
                "MemoryPressure",
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available",
            ),
            (
                "DiskPressure",
                "KubeletHasDiskPressure",
                "kubelet has disk pressure",
            ),
            (
                "PIDPressure",
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available",
            ),
        ];
        for (kind, reason, message) in expect {
            let c = find(&hot, kind);
            assert_eq!(c.status, "True", "{kind}");
            assert_eq!(c.reason.as_deref(), Some(reason));
            assert_eq!(c.message.as_deref(), Some(message));
            assert_eq!(
                c.last_transition_time,
                Some(peapod_apimachinery::timeconv::time(
                    t0 + chrono::Duration::seconds(10)
                )),
                "{kind} changed status: new transition time"
            );
        }
        let ready = find(&hot, "Ready");
        assert_eq!(ready.status, "True");
        assert_eq!(
            ready.last_transition_time,
            Some(peapod_apimachinery::timeconv::time(t0))
        );

        // Still under pressure: the transition time stays; relieved: it moves again.
        let still = at(20, &hot, squeezed);
        assert_eq!(
            find(&still, "DiskPressure").last_transition_time,
            find(&hot, "DiskPressure").last_transition_time
        );
        let relieved = at(30, &still, Pressure::default());
        let disk = find(&relieved, "DiskPressure");
        assert_eq!(disk.status, "False");
        assert_eq!(disk.reason.as_deref(), Some("KubeletHasNoDiskPressure"));
        assert_eq!(
            disk.last_transition_time,
            Some(peapod_apimachinery::timeconv::time(
                t0 + chrono::Duration::seconds(30)
            ))
        );
        assert_eq!(
            disk.last_heartbeat_time,
            Some(peapod_apimachinery::timeconv::time(
                t0 + chrono::Duration::seconds(30)
            ))
        );
    }
}
