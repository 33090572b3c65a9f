//! A `metav1.LabelSelector` as stored in an object's `spec.selector` (typed, or as JSON), matched
//! against an object's labels. The selector is taken as validation left it: its syntax is not
//! checked again, and a requirement with an unknown operator simply does not hold.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as ApiLabelSelector;
use serde_json::{Map, Value};

/// Whether the labels satisfy the selector. Empty (no matchLabels, no matchExpressions) selects
/// everything, as `LabelSelectorAsSelector` reads it.
pub fn object_selector_matches(
    sel: &ApiLabelSelector,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let match_labels = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())));
    let expressions = sel.match_expressions.iter().flatten().map(|e| {
        let values = e.values.iter().flatten().map(String::as_str).collect();
        (e.key.as_str(), e.operator.as_str(), values)
    });
    holds(match_labels, expressions, |k| {
        labels.and_then(|l| l.get(k)).map(String::as_str)
    })
}

/// [`object_selector_matches`] for a selector and labels still in JSON (`metadata.labels`);
/// a value that is not a string counts as absent.
pub fn json_selector_matches(sel: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let match_labels = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    let expressions = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let values = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (str_at(e, "key"), str_at(e, "operator"), values)
        });
    holds(match_labels, expressions, |k| {
        labels.and_then(|l| l.get(k)).and_then(Value::as_str)
    })
}

/// A workload's selector (ReplicaSet, Deployment, Job, ...) over the objects it may own. Unlike
/// [`object_selector_matches`], empty selects nothing: every workload kind requires a non-empty
/// selector, and matching everything would let a controller adopt every pod in the namespace.
pub fn workload_selects(sel: &ApiLabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    let has_labels = sel.match_labels.as_ref().is_some_and(|m| !m.is_empty());
    let has_exprs = sel
        .match_expressions
        .as_ref()
        .is_some_and(|e| !e.is_empty());
    (has_labels || has_exprs) && object_selector_matches(sel, labels)
}

/// An equality selector (a ReplicationController's label map): the labels carry every pair.
/// Empty selects nothing, as for [`workload_selects`].
pub fn equality_selector_selects(
    sel: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    !sel.is_empty() && labels.is_some_and(|l| sel.iter().all(|(k, v)| l.get(k) == Some(v)))
}

/// The one matching rule: every `matchLabels` pair is present (`None` as the wanted value only
/// matches an absent label) and every expression holds.
fn holds<'a>(
    match_labels: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    expressions: impl IntoIterator<Item = (&'a str, &'a str, Vec<&'a str>)>,
    get: impl Fn(&str) -> Option<&'a str>,
) -> bool {
    match_labels.into_iter().all(|(k, v)| get(k) == v)
        && expressions
            .into_iter()
            .all(|(key, operator, values)| expression_holds(operator, &values, get(key)))
}

fn expression_holds(operator: &str, values: &[&str], have: Option<&str>) -> bool {
    match operator {
        "In" => have.is_some_and(|h| values.contains(&h)),
        "NotIn" => have.is_none_or(|h| !values.contains(&h)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        _ => false,
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}
