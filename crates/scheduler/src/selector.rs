//! Node selector matching: `nodeSelector` maps and node selector terms (matchExpressions on
//! labels, matchFields on `metadata.name`), shared by the affinity filter and score.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, NodeSelectorTerm};

/// Every `key: value` of the pod's `nodeSelector` is a label of the node.
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

/// The requirements of one term are ANDed; a term without requirements matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.metadata.labels.as_ref();
    let name = node.metadata.name.as_deref().unwrap_or_default();
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.and_then(|l| l.get(&r.key)).map(String::as_str)))
        && fields
            .iter()
            .all(|r| r.key == "metadata.name" && requirement_matches(r, Some(name)))
}

/// One requirement against the node's value for its key (`None` when the label is absent).
/// Malformed requirements (Gt/Lt without exactly one integer) never match.
pub fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => !value.is_some_and(|v| values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        op @ ("Gt" | "Lt") => {
            let [bound] = values else { return false };
            let (Ok(bound), Some(Ok(actual))) =
                (bound.parse::<i64>(), value.map(str::parse::<i64>))
            else {
                return false;
            };
            if op == "Gt" {
                actual > bound
            } else {
                actual < bound
            }
        }
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn node_with_labels(name: &str, labels: &[(&str, &str)]) -> Node {
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

    pub fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
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

    pub fn expr_term(reqs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: Some(reqs),
            match_fields: None,
        }
    }

    #[test]
    fn node_selector_needs_every_label() {
        let node = node_with_labels("n", &[("disktype", "ssd"), ("zone", "a")]);
        let sel = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(node_selector_matches(&sel(&[]), &node));
        assert!(node_selector_matches(&sel(&[("disktype", "ssd")]), &node));
        assert!(!node_selector_matches(&sel(&[("disktype", "hdd")]), &node));
        assert!(!node_selector_matches(
            &sel(&[("disktype", "ssd"), ("gpu", "yes")]),
            &node
        ));
        assert!(!node_selector_matches(
            &sel(&[("disktype", "ssd")]),
            &node_with_labels("bare", &[])
        ));
    }

    #[test]
    fn operators() {
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
        assert!(requirement_matches(&req("k", "Gt", &["5"]), Some("6")));
        assert!(!requirement_matches(&req("k", "Gt", &["5"]), Some("5")));
        assert!(requirement_matches(&req("k", "Lt", &["5"]), Some("-1")));
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
        assert!(!requirement_matches(&req("k", "Bogus", &["a"]), Some("a")));
    }

    #[test]
    fn terms_are_ored_and_requirements_anded() {
        let node = node_with_labels("node1", &[("disktype", "ssd"), ("zone", "a")]);
        let ssd_in_b = expr_term(vec![
            req("disktype", "In", &["ssd"]),
            req("zone", "In", &["b"]),
        ]);
        let ssd_in_a = expr_term(vec![
            req("disktype", "In", &["ssd"]),
            req("zone", "In", &["a"]),
        ]);
        assert!(!any_term_matches(std::slice::from_ref(&ssd_in_b), &node));
        assert!(any_term_matches(&[ssd_in_b, ssd_in_a], &node));
        assert!(!any_term_matches(&[], &node), "no terms match nothing");
        assert!(
            !term_matches(&NodeSelectorTerm::default(), &node),
            "an empty term matches nothing"
        );
    }

    #[test]
    fn match_fields_use_the_node_name() {
        let node = node_with_labels("node1", &[]);
        let by_name = |op: &str, v: &str| NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![req("metadata.name", op, &[v])]),
        };
        assert!(term_matches(&by_name("In", "node1"), &node));
        assert!(!term_matches(&by_name("In", "node2"), &node));
        assert!(term_matches(&by_name("NotIn", "node2"), &node));
        let other_field = NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![req("metadata.uid", "In", &["node1"])]),
        };
        assert!(!term_matches(&other_field, &node));
    }
}
