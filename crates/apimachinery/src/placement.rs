//! Node placement rules, with Kubernetes' semantics, shared by the scheduler and the
//! controllers: `spec.nodeSelector`, node selector terms (the terms of required and preferred
//! node affinity: `matchExpressions` on labels, `matchFields` on `metadata.name`) and taints
//! against tolerations.
//!
//! Malformed requirements (an unknown operator, a wrong number of values, a non-integer `Gt`/`Lt`
//! bound, an invalid label key or value) make their term match nothing, as Kubernetes' lazy
//! node selector does; the other terms are still judged.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration,
};

use crate::selectors::{LabelOperator, LabelRequirement, SelectorError};

/// The only node field `matchFields` can select on.
pub const NODE_NAME_FIELD: &str = "metadata.name";

/// Whether the pod's `nodeSelector` and its required node affinity both admit `node`. This is
/// the scheduler's NodeAffinity filter and the DaemonSet controller's node test.
pub fn pod_fits_node_selection(spec: &PodSpec, node: &Node) -> bool {
    let selector_ok = spec
        .node_selector
        .as_ref()
        .is_none_or(|sel| node_selector_matches(sel, node));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    selector_ok && required.is_none_or(|r| any_term_matches(&r.node_selector_terms, node))
}

/// Every `key: value` of a `nodeSelector` map is a label of the node (an empty map selects
/// every node).
pub fn node_selector_matches(selector: &BTreeMap<String, String>, node: &Node) -> bool {
    let labels = node.metadata.labels.as_ref();
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// Terms are ORed; an empty list matches nothing.
pub fn any_term_matches(terms: &[NodeSelectorTerm], node: &Node) -> bool {
    terms.iter().any(|t| term_matches(t, node))
}

/// The requirements of one term are ANDed; a term with neither expressions nor fields matches
/// nothing.
pub fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.metadata.labels.as_ref();
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.and_then(|l| l.get(&r.key)).map(String::as_str)))
        && fields.iter().all(|r| field_requirement_matches(r, node))
}

/// One `matchExpressions` requirement against the node's value for its key (`None`: the label
/// is absent). A malformed requirement never matches.
pub fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    label_requirement(req).is_ok_and(|r| r.matches_value(value))
}

/// A `matchExpressions` requirement as a validated label requirement, with the same checks
/// Kubernetes applies when it builds a node selector: a known operator, at least one value for
/// `In`/`NotIn`, none for `Exists`/`DoesNotExist`, exactly one integer for `Gt`/`Lt`, and a
/// valid label key and values.
pub fn label_requirement(req: &NodeSelectorRequirement) -> Result<LabelRequirement, SelectorError> {
    let operator = match req.operator.as_str() {
        "In" => LabelOperator::In,
        "NotIn" => LabelOperator::NotIn,
        "Exists" => LabelOperator::Exists,
        "DoesNotExist" => LabelOperator::DoesNotExist,
        "Gt" => LabelOperator::GreaterThan,
        "Lt" => LabelOperator::LessThan,
        other => {
            return Err(SelectorError::new(format!(
                "{other:?} is not a valid node selector operator"
            )))
        }
    };
    LabelRequirement::new(&req.key, operator, req.values.clone().unwrap_or_default())
}

/// One `matchFields` requirement: `In` or `NotIn` with exactly one value, compared with the
/// node's field of that name (only `metadata.name` exists; any other reads as empty, as in
/// Kubernetes' field sets).
fn field_requirement_matches(req: &NodeSelectorRequirement, node: &Node) -> bool {
    let [wanted] = req.values.as_deref().unwrap_or_default() else {
        return false;
    };
    let want_equal = match req.operator.as_str() {
        "In" => true,
        "NotIn" => false,
        _ => return false,
    };
    let name = node.metadata.name.as_deref().unwrap_or_default();
    // Kubernetes judges fields only when the node has some; a node without a name has none,
    // so a well-formed field requirement does not exclude it.
    if name.is_empty() {
        return true;
    }
    let actual = if req.key == NODE_NAME_FIELD { name } else { "" };
    (actual == wanted) == want_equal
}

/// Whether one toleration covers one taint: an empty effect covers every effect, an empty key
/// every key; `Exists` accepts any value, `Equal` (also the meaning of an empty operator)
/// needs equal values. Other operators tolerate nothing.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or_default() {
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        "Exists" => true,
        _ => false,
    }
}

/// Whether any of `tolerations` covers `taint`.
pub fn tolerated_by(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, NodeSelector};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|s| s.to_string()).collect())
            },
        }
    }

    fn exprs(reqs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: Some(reqs),
            match_fields: None,
        }
    }

    fn fields(reqs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(reqs),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn with_required(terms: Vec<NodeSelectorTerm>) -> PodSpec {
        PodSpec {
            affinity: Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: terms,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn node_selector_needs_every_label() {
        let n = node("n", &[("disktype", "ssd"), ("zone", "a")]);
        assert!(node_selector_matches(&labels(&[]), &n));
        assert!(node_selector_matches(&labels(&[("disktype", "ssd")]), &n));
        assert!(!node_selector_matches(&labels(&[("disktype", "hdd")]), &n));
        assert!(!node_selector_matches(
            &labels(&[("disktype", "ssd"), ("gpu", "yes")]),
            &n
        ));
        assert!(!node_selector_matches(
            &labels(&[("disktype", "ssd")]),
            &node("bare", &[])
        ));
        let unlabelled = Node {
            metadata: ObjectMeta {
                name: Some("x".into()),
                labels: None,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(node_selector_matches(&labels(&[]), &unlabelled));
        assert!(!node_selector_matches(&labels(&[("k", "")]), &unlabelled));
        assert!(
            node_selector_matches(&labels(&[("k", "")]), &node("x", &[("k", "")])),
            "an empty value needs the label present with an empty value"
        );
    }

    #[test]
    fn set_operators() {
        assert!(requirement_matches(&req("k", "In", &["a", "b"]), Some("b")));
        assert!(!requirement_matches(&req("k", "In", &["a"]), Some("b")));
        assert!(!requirement_matches(&req("k", "In", &["a"]), None));
        assert!(requirement_matches(&req("k", "NotIn", &["a"]), Some("b")));
        assert!(
            requirement_matches(&req("k", "NotIn", &["a"]), None),
            "NotIn matches an absent label"
        );
        assert!(!requirement_matches(&req("k", "NotIn", &["a"]), Some("a")));
        assert!(requirement_matches(&req("k", "Exists", &[]), Some("")));
        assert!(!requirement_matches(&req("k", "Exists", &[]), None));
        assert!(requirement_matches(&req("k", "DoesNotExist", &[]), None));
        assert!(!requirement_matches(
            &req("k", "DoesNotExist", &[]),
            Some("x")
        ));
        // An explicitly empty value list is the same as none.
        let empty_values = NodeSelectorRequirement {
            values: Some(vec![]),
            ..req("k", "Exists", &[])
        };
        assert!(requirement_matches(&empty_values, Some("x")));
    }

    #[test]
    fn integer_operators() {
        assert!(requirement_matches(&req("k", "Gt", &["5"]), Some("6")));
        assert!(!requirement_matches(&req("k", "Gt", &["5"]), Some("5")));
        assert!(requirement_matches(&req("k", "Lt", &["5"]), Some("-1")));
        assert!(!requirement_matches(&req("k", "Lt", &["5"]), Some("5")));
        assert!(
            !requirement_matches(&req("k", "Lt", &["5"]), Some("x")),
            "non-integer label"
        );
        assert!(!requirement_matches(&req("k", "Lt", &["5"]), None));
        assert!(
            !requirement_matches(&req("k", "Gt", &["a"]), Some("6")),
            "non-integer bound"
        );
        assert!(
            !requirement_matches(&req("k", "Gt", &["1", "2"]), Some("6")),
            "two bounds"
        );
        assert!(
            !requirement_matches(&req("k", "Gt", &[]), Some("6")),
            "no bound"
        );
    }

    #[test]
    fn malformed_requirements_never_match() {
        assert!(!requirement_matches(&req("k", "Bogus", &["a"]), Some("a")));
        assert!(
            !requirement_matches(&req("k", "NotIn", &[]), Some("a")),
            "NotIn needs values"
        );
        assert!(
            !requirement_matches(&req("k", "In", &[]), Some("")),
            "In needs values"
        );
        assert!(
            !requirement_matches(&req("k", "Exists", &["a"]), Some("a")),
            "Exists takes no values"
        );
        assert!(
            !requirement_matches(&req("k", "DoesNotExist", &["a"]), None),
            "DoesNotExist takes no values"
        );
        assert!(
            !requirement_matches(&req("bad key!", "Exists", &[]), Some("a")),
            "invalid label key"
        );
        assert!(
            !requirement_matches(&req("k", "NotIn", &["not a value!"]), None),
            "invalid label value"
        );
        assert!(label_requirement(&req("k", "Bogus", &[]))
            .unwrap_err()
            .message()
            .contains("Bogus"));
    }

    #[test]
    fn terms_are_ored_and_requirements_anded() {
        let n = node(
            "node1",
            &[("disktype", "ssd"), ("zone", "a"), ("cpus", "8")],
        );
        let ssd_in_b = exprs(vec![
            req("disktype", "In", &["ssd"]),
            req("zone", "In", &["b"]),
        ]);
        let ssd_in_a = exprs(vec![
            req("disktype", "In", &["ssd"]),
            req("zone", "In", &["a"]),
        ]);
        assert!(!any_term_matches(std::slice::from_ref(&ssd_in_b), &n));
        assert!(any_term_matches(&[ssd_in_b, ssd_in_a], &n));
        assert!(!any_term_matches(&[], &n), "no terms match nothing");
        let big_without_gpu = exprs(vec![
            req("cpus", "Gt", &["4"]),
            req("gpu", "DoesNotExist", &[]),
        ]);
        assert!(term_matches(&big_without_gpu, &n));
        // A malformed requirement spoils its own term only.
        let spoiled = exprs(vec![req("zone", "In", &["a"]), req("cpus", "Gt", &["x"])]);
        assert!(!term_matches(&spoiled, &n));
        assert!(any_term_matches(&[spoiled, big_without_gpu], &n));
    }

    #[test]
    fn empty_terms_match_nothing() {
        let n = node("node1", &[("zone", "a")]);
        assert!(!term_matches(&NodeSelectorTerm::default(), &n));
        let explicitly_empty = NodeSelectorTerm {
            match_expressions: Some(vec![]),
            match_fields: Some(vec![]),
        };
        assert!(!term_matches(&explicitly_empty, &n));
    }

    #[test]
    fn match_fields_use_the_node_name() {
        let n = node("node1", &[("zone", "a")]);
        let by_name = |op: &str, v: &str| fields(vec![req(NODE_NAME_FIELD, op, &[v])]);
        assert!(term_matches(&by_name("In", "node1"), &n));
        assert!(!term_matches(&by_name("In", "node2"), &n));
        assert!(term_matches(&by_name("NotIn", "node2"), &n));
        assert!(!term_matches(&by_name("NotIn", "node1"), &n));
        // Fields other than the name read as empty.
        assert!(!term_matches(
            &fields(vec![req("metadata.uid", "In", &["node1"])]),
            &n
        ));
        assert!(term_matches(
            &fields(vec![req("metadata.uid", "NotIn", &["node1"])]),
            &n
        ));
        // Only In/NotIn with exactly one value.
        for bad in [
            req(NODE_NAME_FIELD, "Exists", &[]),
            req(NODE_NAME_FIELD, "In", &["node1", "node2"]),
            req(NODE_NAME_FIELD, "NotIn", &[]),
        ] {
            assert!(!term_matches(&fields(vec![bad.clone()]), &n), "{bad:?}");
        }
        // Labels and fields of one term are ANDed.
        let both = NodeSelectorTerm {
            match_expressions: Some(vec![req("zone", "In", &["b"])]),
            match_fields: Some(vec![req(NODE_NAME_FIELD, "In", &["node1"])]),
        };
        assert!(!term_matches(&both, &n));
    }

    #[test]
    fn a_nameless_node_is_not_judged_on_fields() {
        let nameless = Node::default();
        assert!(term_matches(
            &fields(vec![req(NODE_NAME_FIELD, "In", &["node1"])]),
            &nameless
        ));
        assert!(!term_matches(
            &fields(vec![req(NODE_NAME_FIELD, "Exists", &[])]),
            &nameless
        ));
    }

    #[test]
    fn pod_needs_node_selector_and_required_affinity() {
        let n = node("n1", &[("zone", "a"), ("cpus", "8")]);
        assert!(pod_fits_node_selection(&PodSpec::default(), &n));

        let by_name = with_required(vec![fields(vec![req(NODE_NAME_FIELD, "In", &["n1"])])]);
        assert!(pod_fits_node_selection(&by_name, &n));
        assert!(!pod_fits_node_selection(&by_name, &node("n2", &[])));

        let by_labels = with_required(vec![
            exprs(vec![req("zone", "In", &["b"])]),
            exprs(vec![req("cpus", "Gt", &["4"])]),
        ]);
        assert!(pod_fits_node_selection(&by_labels, &n));
        assert!(!pod_fits_node_selection(
            &with_required(vec![NodeSelectorTerm::default()]),
            &n
        ));
        assert!(
            !pod_fits_node_selection(&with_required(vec![]), &n),
            "required affinity without terms matches nothing"
        );

        let wrong_zone = PodSpec {
            node_selector: Some(labels(&[("zone", "b")])),
            ..Default::default()
        };
        assert!(!pod_fits_node_selection(&wrong_zone, &n));
        let right_zone = PodSpec {
            node_selector: Some(labels(&[("zone", "a")])),
            ..by_name.clone()
        };
        assert!(pod_fits_node_selection(&right_zone, &n));
        let selector_ok_affinity_not = PodSpec {
            node_selector: Some(labels(&[("zone", "a")])),
            ..with_required(vec![exprs(vec![req("zone", "In", &["b"])])])
        };
        assert!(!pod_fits_node_selection(&selector_ok_affinity_not, &n));
    }

    fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: value.map(String::from),
            effect: effect.into(),
            time_added: None,
        }
    }

    fn tol(
        key: Option<&str>,
        op: Option<&str>,
        value: Option<&str>,
        effect: Option<&str>,
    ) -> Toleration {
        Toleration {
            key: key.map(String::from),
            operator: op.map(String::from),
            value: value.map(String::from),
            effect: effect.map(String::from),
            toleration_seconds: None,
        }
    }

    #[test]
    fn equal_tolerations_compare_values() {
        let t = taint("dedicated", Some("gpu"), "NoSchedule");
        let dedicated = Some("dedicated");
        assert!(tolerates(
            &tol(dedicated, Some("Equal"), Some("gpu"), Some("NoSchedule")),
            &t
        ));
        assert!(
            tolerates(&tol(dedicated, None, Some("gpu"), None), &t),
            "no operator is Equal, no effect covers all"
        );
        assert!(
            tolerates(&tol(dedicated, Some(""), Some("gpu"), Some("")), &t),
            "empty operator and effect likewise"
        );
        assert!(!tolerates(
            &tol(dedicated, Some("Equal"), Some("cpu"), Some("NoSchedule")),
            &t
        ));
        assert!(!tolerates(&tol(dedicated, None, None, None), &t));
        assert!(
            tolerates(
                &tol(Some("k"), Some("Equal"), None, None),
                &taint("k", None, "NoSchedule")
            ),
            "absent values are equal"
        );
        assert!(
            tolerates(
                &tol(Some("k"), None, Some(""), None),
                &taint("k", None, "NoExecute")
            ),
            "an empty value equals an absent one"
        );
        // Kubernetes does not special-case an empty key with Equal (validation rejects it):
        // it covers any key whose taint has the same value.
        assert!(tolerates(&tol(None, None, Some("gpu"), None), &t));
        assert!(!tolerates(&tol(None, None, Some("cpu"), None), &t));
    }

    #[test]
    fn exists_tolerations_ignore_values() {
        let t = taint("dedicated", Some("gpu"), "NoSchedule");
        assert!(tolerates(
            &tol(Some("dedicated"), Some("Exists"), None, Some("NoSchedule")),
            &t
        ));
        assert!(!tolerates(
            &tol(Some("dedicated"), Some("Exists"), None, Some("NoExecute")),
            &t
        ));
        assert!(!tolerates(
            &tol(Some("other"), Some("Exists"), None, None),
            &t
        ));
        assert!(
            tolerates(&tol(None, Some("Exists"), None, None), &t),
            "empty key + Exists tolerates every taint"
        );
        assert!(tolerates(&tol(Some(""), Some("Exists"), None, None), &t));
        assert!(!tolerates(
            &tol(None, Some("Exists"), None, Some("NoExecute")),
            &t
        ));
    }

    #[test]
    fn unknown_toleration_operators_tolerate_nothing() {
        let t = taint("dedicated", Some("5"), "NoSchedule");
        assert!(!tolerates(
            &tol(Some("dedicated"), Some("Gt"), Some("1"), None),
            &t
        ));
        assert!(!tolerates(
            &tol(Some("dedicated"), Some("equal"), Some("5"), None),
            &t
        ));
    }

    #[test]
    fn any_toleration_may_cover_a_taint() {
        let t = taint("a", Some("1"), "NoExecute");
        assert!(!tolerated_by(&[], &t));
        let other = tol(Some("b"), Some("Exists"), None, None);
        assert!(!tolerated_by(std::slice::from_ref(&other), &t));
        assert!(tolerated_by(
            &[other, tol(Some("a"), None, Some("1"), Some("NoExecute"))],
            &t
        ));
    }
}
