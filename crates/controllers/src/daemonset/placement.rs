//! Where a DaemonSet's pods belong: which nodes should run one (nodeSelector, required node
//! affinity, taints against the pod's tolerations plus the ones every daemon pod gets), how
//! a pod is pinned to its node (required affinity on `metadata.name`, which the scheduler
//! honours), and which node an existing pod is for.

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, Toleration,
};

use peapod_apimachinery::placement::{pod_fits_node_selection, tolerated_by, NODE_NAME_FIELD};

use crate::nodeutil::{self, NO_EXECUTE, NO_SCHEDULE};

/// Whether a node should get a daemon pod, and whether one already there may stay (a pod
/// running before a NoSchedule taint appeared keeps running; NoExecute evicts it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub should_run: bool,
    pub should_continue_running: bool,
}

fn exists(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        value: None,
        toleration_seconds: None,
    }
}

/// Daemon pods survive node trouble (no eviction on not-ready/unreachable) and run on
/// cordoned or pressured nodes; host-network ones also before the pod network is up.
pub fn add_default_tolerations(spec: &mut PodSpec) {
    let mut wanted = vec![
        exists(nodeutil::NOT_READY, NO_EXECUTE),
        exists(nodeutil::UNREACHABLE, NO_EXECUTE),
        exists(nodeutil::DISK_PRESSURE, NO_SCHEDULE),
        exists(nodeutil::MEMORY_PRESSURE, NO_SCHEDULE),
        exists(nodeutil::PID_PRESSURE, NO_SCHEDULE),
        exists(nodeutil::UNSCHEDULABLE, NO_SCHEDULE),
    ];
    if spec.host_network == Some(true) {
        wanted.push(exists(nodeutil::NETWORK_UNAVAILABLE, NO_SCHEDULE));
    }
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for w in wanted {
        // Replaces a toleration of the same key and effect (it may carry tolerationSeconds).
        tolerations.retain(|t| !(t.key == w.key && t.effect == w.effect));
        tolerations.push(w);
    }
}

/// Pins the pod to `node`: the required node affinity becomes a single term selecting the
/// node by name (the node was already judged against the original terms).
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let term = NodeSelectorTerm {
        match_expressions: None,
        match_fields: Some(vec![NodeSelectorRequirement {
            key: NODE_NAME_FIELD.into(),
            operator: "In".into(),
            values: Some(vec![node.to_string()]),
        }]),
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![term],
    });
}

/// The node a daemon pod is bound or pinned to.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().find_map(|t| {
        t.match_fields.iter().flatten().find_map(|r| {
            let values = r.values.as_deref().unwrap_or_default();
            (r.key == NODE_NAME_FIELD && r.operator == "In" && values.len() == 1)
                .then(|| values[0].clone())
        })
    })
}

/// Judges `node` for a pod made from `template_spec` (default tolerations included).
pub fn placement(template_spec: &PodSpec, node: &Node) -> Placement {
    let never = Placement {
        should_run: false,
        should_continue_running: false,
    };
    let name = nodeutil::node_name(node);
    if let Some(n) = template_spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        if n != name {
            return never;
        }
    }
    if !pod_fits_node_selection(template_spec, node) {
        return never;
    }
    let mut spec = template_spec.clone();
    add_default_tolerations(&mut spec);
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    let untolerated = |effect: &str| {
        nodeutil::taints(node)
            .iter()
            .any(|t| t.effect == effect && !tolerated_by(tolerations, t))
    };
    let no_execute = untolerated(NO_EXECUTE);
    Placement {
        should_run: !no_execute && !untolerated(NO_SCHEDULE),
        should_continue_running: !no_execute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSpec, Taint};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str, taints: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([("role".to_string(), "edge".to_string())].into()),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                taints: Some(
                    taints
                        .iter()
                        .map(|(k, e)| Taint {
                            key: k.to_string(),
                            effect: e.to_string(),
                            value: None,
                            time_added: None,
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn default_tolerations_cover_node_trouble_but_not_custom_taints() {
        let spec = PodSpec::default();
        let ok = Placement {
            should_run: true,
            should_continue_running: true,
        };
        assert_eq!(placement(&spec, &node("a", &[])), ok);
        assert_eq!(
            placement(
                &spec,
                &node(
                    "a",
                    &[
                        (nodeutil::UNSCHEDULABLE, NO_SCHEDULE),
                        (nodeutil::UNREACHABLE, NO_EXECUTE)
                    ]
                )
            ),
            ok
        );
        // A NoSchedule taint keeps new pods off but lets a running one stay.
        let p = placement(&spec, &node("a", &[("dedicated", NO_SCHEDULE)]));
        assert_eq!((p.should_run, p.should_continue_running), (false, true));
        let p = placement(&spec, &node("a", &[("dedicated", NO_EXECUTE)]));
        assert_eq!((p.should_run, p.should_continue_running), (false, false));
        // Network-unavailable is tolerated only by host-network pods.
        let tainted = node("a", &[(nodeutil::NETWORK_UNAVAILABLE, NO_SCHEDULE)]);
        assert!(!placement(&spec, &tainted).should_run);
        let host = PodSpec {
            host_network: Some(true),
            ..Default::default()
        };
        assert!(placement(&host, &tainted).should_run);
    }

    #[test]
    fn node_selector_and_name_pinning() {
        let spec = PodSpec {
            node_selector: Some([("role".to_string(), "core".to_string())].into()),
            ..Default::default()
        };
        assert!(!placement(&spec, &node("a", &[])).should_run);
        let mut pinned = PodSpec::default();
        pin_to_node(&mut pinned, "a");
        assert!(pod_fits_node_selection(&pinned, &node("a", &[])));
        assert!(!pod_fits_node_selection(&pinned, &node("b", &[])));
        let pod = Pod {
            spec: Some(pinned),
            ..Default::default()
        };
        assert_eq!(target_node(&pod).as_deref(), Some("a"));
    }

    #[test]
    fn default_tolerations_replace_timed_ones() {
        let mut spec = PodSpec {
            tolerations: Some(vec![Toleration {
                toleration_seconds: Some(300),
                ..exists(nodeutil::UNREACHABLE, NO_EXECUTE)
            }]),
            ..Default::default()
        };
        add_default_tolerations(&mut spec);
        let ts = spec.tolerations.unwrap_or_default();
        assert_eq!(ts.len(), 6);
        assert!(ts.iter().all(|t| t.toleration_seconds.is_none()));
    }
}
