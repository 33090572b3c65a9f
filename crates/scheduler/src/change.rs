//! Which watch events can change a scheduling outcome. Heartbeats and container status churn must
//! not wake every waiting pod, so objects are reduced to what the filters read and compared.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use k8s_openapi::api::core::v1::{Node, Pod};
use serde::Serialize;

fn hash_json<T: Serialize>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    serde_json::to_string(value)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// Labels, taints, cordon, allocatable and readiness: everything the filters read from a node.
pub fn node_fingerprint(node: &Node) -> u64 {
    let spec = node.spec.as_ref();
    let status = node.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.clone());
    hash_json(&(
        &node.metadata.labels,
        spec.and_then(|s| s.taints.as_ref()),
        spec.and_then(|s| s.unschedulable),
        status.and_then(|s| s.allocatable.as_ref()),
        ready,
    ))
}

/// For a pod on a node: where it is and what it holds. `None` for pods not on a node.
pub fn placed_pod_fingerprint(pod: &Pod) -> Option<u64> {
    let spec = pod.spec.as_ref()?;
    let node = spec.node_name.as_deref().filter(|n| !n.is_empty())?;
    Some(hash_json(&(
        node,
        crate::is_terminal(pod),
        pod.metadata.deletion_timestamp.is_some(),
        spec.priority,
        &spec
            .containers
            .iter()
            .map(|c| (&c.resources, &c.ports))
            .collect::<Vec<_>>(),
        &spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| (&c.resources, &c.restart_policy))
            .collect::<Vec<_>>(),
        &spec.overhead,
    )))
}

/// A pending pod's own spec and labels: when they change, it deserves a fresh attempt.
pub fn pending_pod_fingerprint(pod: &Pod) -> u64 {
    hash_json(&(&pod.metadata.labels, &pod.spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn heartbeats_do_not_change_a_node() {
        let mut n = Node {
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let before = node_fingerprint(&n);
        let cond = &mut n.status.as_mut().unwrap().conditions.as_mut().unwrap()[0];
        cond.last_heartbeat_time = Some(Time(k8s_openapi::jiff::Timestamp::now()));
        assert_eq!(node_fingerprint(&n), before);
        n.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "False".into();
        assert_ne!(node_fingerprint(&n), before);
        let ready_false = node_fingerprint(&n);
        n.spec.as_mut().unwrap().unschedulable = Some(true);
        assert_ne!(node_fingerprint(&n), ready_false);
    }

    #[test]
    fn placed_pod_changes() {
        let mut p = Pod {
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        assert_eq!(placed_pod_fingerprint(&p), None);
        p.spec.as_mut().unwrap().node_name = Some("n1".into());
        let bound = placed_pod_fingerprint(&p);
        assert!(bound.is_some());
        p.status = Some(PodStatus {
            pod_ip: Some("10.0.0.1".into()),
            ..Default::default()
        });
        assert_eq!(placed_pod_fingerprint(&p), bound, "status churn is ignored");
        p.status.as_mut().unwrap().phase = Some("Succeeded".into());
        assert_ne!(
            placed_pod_fingerprint(&p),
            bound,
            "finishing frees resources"
        );
    }
}
