//! Label selector matching (matchLabels + matchExpressions, or a plain equality map), as
//! controllers use it on cached objects.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether `labels` satisfy `sel`. An empty selector selects nothing: every workload kind
/// requires a non-empty selector, and matching everything would let a controller adopt
/// every pod in the namespace.
pub fn matches(sel: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    let match_labels = sel.match_labels.as_ref().filter(|m| !m.is_empty());
    let exprs = sel.match_expressions.as_ref().filter(|e| !e.is_empty());
    if match_labels.is_none() && exprs.is_none() {
        return false;
    }
    if let Some(m) = match_labels {
        if !m.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return false;
        }
    }
    for e in exprs.into_iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default();
        let have = labels.get(&e.key);
        let ok = match e.operator.as_str() {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether `labels` carry every pair of an equality selector (a ReplicationController's
/// label map). Empty selects nothing, as above.
pub fn matches_labels(
    sel: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    !sel.is_empty() && labels.is_some_and(|l| sel.iter().all(|(k, v)| l.get(k) == Some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "NotIn".into(),
                values: Some(vec!["db".into()]),
            }]),
        };
        assert!(matches(&sel, Some(&labels(&[("app", "web")]))));
        assert!(matches(
            &sel,
            Some(&labels(&[("app", "web"), ("tier", "fe")]))
        ));
        assert!(!matches(
            &sel,
            Some(&labels(&[("app", "web"), ("tier", "db")]))
        ));
        assert!(!matches(&sel, Some(&labels(&[("app", "api")]))));
        assert!(!matches(&sel, None));
    }

    #[test]
    fn empty_selector_selects_nothing() {
        assert!(!matches(
            &LabelSelector::default(),
            Some(&labels(&[("a", "b")]))
        ));
    }

    #[test]
    fn equality_selector_needs_every_pair() {
        let sel = labels(&[("app", "web"), ("tier", "fe")]);
        assert!(matches_labels(
            &sel,
            Some(&labels(&[("app", "web"), ("tier", "fe"), ("x", "y")]))
        ));
        assert!(!matches_labels(&sel, Some(&labels(&[("app", "web")]))));
        assert!(!matches_labels(&sel, None));
        assert!(!matches_labels(
            &BTreeMap::new(),
            Some(&labels(&[("app", "web")]))
        ));
    }

    #[test]
    fn unknown_operator_never_matches() {
        let sel = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Near".into(),
                values: None,
            }]),
        };
        assert!(!matches(&sel, Some(&labels(&[("a", "b")]))));
    }
}
