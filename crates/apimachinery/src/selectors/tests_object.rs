use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use serde_json::json;

use super::{
    equality_selector_selects, json_selector_matches, object_selector_matches, workload_selects,
};

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
    assert!(workload_selects(&sel, Some(&labels(&[("app", "web")]))));
    assert!(workload_selects(
        &sel,
        Some(&labels(&[("app", "web"), ("tier", "fe")]))
    ));
    assert!(!workload_selects(
        &sel,
        Some(&labels(&[("app", "web"), ("tier", "db")]))
    ));
    assert!(!workload_selects(&sel, Some(&labels(&[("app", "api")]))));
    assert!(!workload_selects(&sel, None));
}

#[test]
fn empty_selector_selects_nothing() {
    assert!(!workload_selects(
        &LabelSelector::default(),
        Some(&labels(&[("a", "b")]))
    ));
}

#[test]
fn empty_object_selector_selects_everything() {
    assert!(object_selector_matches(
        &LabelSelector::default(),
        Some(&labels(&[("a", "b")]))
    ));
    assert!(object_selector_matches(&LabelSelector::default(), None));
    assert!(json_selector_matches(&json!({}), None));
}

#[test]
fn equality_selector_needs_every_pair() {
    let sel = labels(&[("app", "web"), ("tier", "fe")]);
    assert!(equality_selector_selects(
        &sel,
        Some(&labels(&[("app", "web"), ("tier", "fe"), ("x", "y")]))
    ));
    assert!(!equality_selector_selects(
        &sel,
        Some(&labels(&[("app", "web")]))
    ));
    assert!(!equality_selector_selects(&sel, None));
    assert!(!equality_selector_selects(
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
    assert!(!workload_selects(&sel, Some(&labels(&[("a", "b")]))));
    let json_sel = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
    assert!(!json_selector_matches(
        &json_sel,
        json!({"a": "b"}).as_object()
    ));
}

#[test]
fn json_and_typed_selectors_agree() {
    let json_sel = json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
        ],
    });
    let typed: LabelSelector = serde_json::from_value(json_sel.clone()).unwrap();
    let cases = [
        json!({"app": "web", "tier": "fe", "zone": "a"}),
        json!({"app": "web", "tier": "db", "zone": "a"}),
        json!({"app": "web", "tier": "be", "zone": "a", "canary": "1"}),
        json!({"app": "web", "tier": "be"}),
        json!({"app": "api", "tier": "fe", "zone": "a"}),
    ];
    let expected = [true, false, false, false, false];
    for (case, want) in cases.iter().zip(expected) {
        let map: BTreeMap<String, String> = serde_json::from_value(case.clone()).unwrap();
        assert_eq!(object_selector_matches(&typed, Some(&map)), want, "{case}");
        assert_eq!(
            json_selector_matches(&json_sel, case.as_object()),
            want,
            "{case}"
        );
    }
}

#[test]
fn json_match_label_that_is_not_a_string_wants_the_label_absent() {
    let sel = json!({"matchLabels": {"a": 1}});
    assert!(json_selector_matches(&sel, None));
    assert!(!json_selector_matches(&sel, json!({"a": "1"}).as_object()));
}
