//! NodeAffinity: the pod's `nodeSelector` and its required node affinity must both match.

use k8s_openapi::api::core::v1::{Node, Pod};

use peapod_apimachinery::placement::pod_fits_node_selection;

use super::{FilterResult, Rejection};

pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

pub fn node_affinity(pod: &Pod, node: &Node) -> FilterResult {
    if pod
        .spec
        .as_ref()
        .is_none_or(|spec| pod_fits_node_selection(spec, node))
    {
        Ok(())
    } else {
        Err(Rejection::unresolvable(REASON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement_fixtures::{expr_term, node_with_labels, req};
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, NodeSelector, PodSpec};

    fn pod(selector: &[(&str, &str)], required: Option<NodeSelector>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                node_selector: if selector.is_empty() {
                    None
                } else {
                    Some(
                        selector
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    )
                },
                affinity: required.map(|r| Affinity {
                    node_affinity: Some(NodeAffinity {
                        required_during_scheduling_ignored_during_execution: Some(r),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn selector_and_required_affinity_both_apply() {
        let ssd = node_with_labels("n1", &[("disktype", "ssd"), ("zone", "a")]);
        let plain = node_with_labels("n2", &[("zone", "a")]);
        assert!(node_affinity(&pod(&[], None), &plain).is_ok());
        assert!(node_affinity(&pod(&[("disktype", "ssd")], None), &ssd).is_ok());
        assert_eq!(
            node_affinity(&pod(&[("disktype", "ssd")], None), &plain),
            Err(Rejection::unresolvable(REASON))
        );

        let zone_b = NodeSelector {
            node_selector_terms: vec![expr_term(vec![req("zone", "In", &["b"])])],
        };
        let zone_a = NodeSelector {
            node_selector_terms: vec![expr_term(vec![req("zone", "In", &["a"])])],
        };
        assert!(node_affinity(&pod(&[], Some(zone_b.clone())), &ssd).is_err());
        assert!(node_affinity(&pod(&[("disktype", "ssd")], Some(zone_a.clone())), &ssd).is_ok());
        assert!(
            node_affinity(&pod(&[("disktype", "ssd")], Some(zone_a)), &plain).is_err(),
            "selector fails"
        );
        assert!(
            node_affinity(&pod(&[("disktype", "ssd")], Some(zone_b)), &ssd).is_err(),
            "affinity fails"
        );
        let no_terms = NodeSelector {
            node_selector_terms: vec![],
        };
        assert!(
            node_affinity(&pod(&[], Some(no_terms)), &ssd).is_err(),
            "required with no terms matches nothing"
        );
    }
}
