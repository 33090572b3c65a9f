//! Taints that follow node conditions: not-ready / unreachable (NoSchedule and NoExecute)
//! from the Ready condition, pressure and network taints (NoSchedule), and unschedulable
//! from `spec.unschedulable`. Other taints are left as they are.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Taint};

use crate::nodeutil::{self, NO_EXECUTE, NO_SCHEDULE};

const MANAGED: [&str; 7] = [
    nodeutil::NOT_READY,
    nodeutil::UNREACHABLE,
    nodeutil::MEMORY_PRESSURE,
    nodeutil::DISK_PRESSURE,
    nodeutil::PID_PRESSURE,
    nodeutil::NETWORK_UNAVAILABLE,
    nodeutil::UNSCHEDULABLE,
];

fn wanted(node: &Node) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    match nodeutil::condition_status(node, "Ready") {
        Some("False") => out.extend([
            (nodeutil::NOT_READY, NO_SCHEDULE),
            (nodeutil::NOT_READY, NO_EXECUTE),
        ]),
        Some("Unknown") => out.extend([
            (nodeutil::UNREACHABLE, NO_SCHEDULE),
            (nodeutil::UNREACHABLE, NO_EXECUTE),
        ]),
        _ => {}
    }
    for (cond, key) in [
        ("MemoryPressure", nodeutil::MEMORY_PRESSURE),
        ("DiskPressure", nodeutil::DISK_PRESSURE),
        ("PIDPressure", nodeutil::PID_PRESSURE),
        ("NetworkUnavailable", nodeutil::NETWORK_UNAVAILABLE),
    ] {
        if nodeutil::condition_status(node, cond) == Some("True") {
            out.push((key, NO_SCHEDULE));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        out.push((nodeutil::UNSCHEDULABLE, NO_SCHEDULE));
    }
    out
}

/// The node's taints as its conditions require them; None when they already are. Taints
/// that stay keep their timeAdded (eviction deadlines count from it).
pub fn desired(node: &Node, now: DateTime<Utc>) -> Option<Vec<Taint>> {
    let current = nodeutil::taints(node);
    let want = wanted(node);
    let mut out: Vec<Taint> = current
        .iter()
        .filter(|t| !MANAGED.contains(&t.key.as_str()))
        .cloned()
        .collect();
    for (key, effect) in &want {
        let kept = current
            .iter()
            .find(|t| t.key == *key && t.effect == *effect);
        out.push(kept.cloned().unwrap_or_else(|| Taint {
            key: key.to_string(),
            effect: effect.to_string(),
            value: None,
            time_added: (*effect == NO_EXECUTE).then(|| peapod_apimachinery::timeconv::time(now)),
        }));
    }
    let same = out.len() == current.len() && out.iter().all(|t| current.contains(t));
    (!same).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus};

    fn node(ready: &str, taints: Vec<Taint>) -> Node {
        Node {
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: ready.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            metadata: Default::default(),
        }
    }

    fn custom() -> Taint {
        Taint {
            key: "dedicated".into(),
            effect: NO_SCHEDULE.into(),
            value: Some("gpu".into()),
            time_added: None,
        }
    }

    #[test]
    fn unknown_adds_unreachable_and_recovery_removes_it() {
        let now = Utc::now();
        let taints = desired(&node("Unknown", vec![custom()]), now).unwrap_or_default();
        let keys: Vec<_> = taints
            .iter()
            .map(|t| (t.key.as_str(), t.effect.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("dedicated", NO_SCHEDULE),
                (nodeutil::UNREACHABLE, NO_SCHEDULE),
                (nodeutil::UNREACHABLE, NO_EXECUTE)
            ]
        );
        assert!(taints[2].time_added.is_some());
        // Already right: nothing to do, and timeAdded is kept.
        assert!(desired(
            &node("Unknown", taints.clone()),
            now + chrono::Duration::seconds(5)
        )
        .is_none());
        let recovered = desired(&node("True", taints), now).unwrap_or_default();
        assert_eq!(recovered, [custom()]);
        let not_ready = desired(&node("False", vec![]), now).unwrap_or_default();
        assert!(not_ready.iter().all(|t| t.key == nodeutil::NOT_READY));
        assert_eq!(not_ready.len(), 2);
    }
}
