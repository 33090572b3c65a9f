//! NodeAffinity score: the summed weights of the pod's preferred terms that the node matches.

use k8s_openapi::api::core::v1::{Node, Pod};

use peapod_apimachinery::placement::term_matches;

pub fn preferred_affinity(pod: &Pod, node: &Node) -> i64 {
    let preferred = pod
        .spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.preferred_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default();
    preferred
        .iter()
        .filter(|t| t.weight != 0 && term_matches(&t.preference, node))
        .map(|t| i64::from(t.weight))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement_fixtures::{expr_term, node_with_labels, req};
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity, NodeSelectorTerm, PodSpec, PreferredSchedulingTerm,
    };

    #[test]
    fn weights_of_matching_terms_add_up() {
        let pod = Pod {
            spec: Some(PodSpec {
                affinity: Some(Affinity {
                    node_affinity: Some(NodeAffinity {
                        preferred_during_scheduling_ignored_during_execution: Some(vec![
                            PreferredSchedulingTerm {
                                weight: 10,
                                preference: expr_term(vec![req("zone", "In", &["a"])]),
                            },
                            PreferredSchedulingTerm {
                                weight: 5,
                                preference: expr_term(vec![req("ssd", "Exists", &[])]),
                            },
                            PreferredSchedulingTerm {
                                weight: 50,
                                preference: NodeSelectorTerm::default(),
                            },
                        ]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            preferred_affinity(&pod, &node_with_labels("n", &[("zone", "a"), ("ssd", "")])),
            15
        );
        assert_eq!(
            preferred_affinity(&pod, &node_with_labels("n", &[("zone", "b"), ("ssd", "")])),
            5
        );
        assert_eq!(
            preferred_affinity(&pod, &node_with_labels("n", &[])),
            0,
            "empty term matches nothing"
        );
        assert_eq!(
            preferred_affinity(&Pod::default(), &node_with_labels("n", &[("zone", "a")])),
            0
        );
    }
}
