//! Label and label-selector renderings used by the "Selector" and "Node Selector" columns.

use serde_json::Value;

/// A `map[string]string` of labels as "k1=v1,k2=v2" sorted by key; "<none>" when empty
/// (Kubernetes' `labels.FormatLabels`).
pub(crate) fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        return "<none>".to_string();
    }
    pairs.sort();
    pairs.join(",")
}

/// A `metav1.LabelSelector` as the selector string Kubernetes derives from it
/// (`LabelSelectorAsSelector(..).String()`): requirements sorted by key,
/// `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. Empty for a nil or empty selector.
/// `Err(())` when the selector is malformed (unknown operator, missing values).
pub(crate) fn selector_string(selector: Option<&Value>) -> Result<String, ()> {
    let Some(selector) = selector.filter(|s| !s.is_null()) else {
        return Ok(String::new());
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            let value = value.as_str().ok_or(())?;
            requirements.push((key.clone(), format!("{key}={value}")));
        }
    }
    if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
        for expr in exprs {
            let key = expr.get("key").and_then(Value::as_str).ok_or(())?;
            let op = expr.get("operator").and_then(Value::as_str).unwrap_or("");
            let mut values: Vec<&str> = expr
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            values.sort_unstable();
            values.dedup();
            let text = match op {
                "In" | "NotIn" if values.is_empty() => return Err(()),
                "In" => format!("{key} in ({})", values.join(",")),
                "NotIn" => format!("{key} notin ({})", values.join(",")),
                "Exists" | "DoesNotExist" if !values.is_empty() => return Err(()),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                _ => return Err(()),
            };
            requirements.push((key.to_string(), text));
        }
    }
    // Stable sort: requirements on the same key keep their input order.
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(requirements
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(","))
}

/// Kubernetes' `metav1.FormatLabelSelector`: the selector string, "<none>" when it
/// selects by nothing, "<error>" when malformed.
pub(crate) fn format_label_selector(selector: Option<&Value>) -> String {
    match selector_string(selector) {
        Ok(s) if s.is_empty() => "<none>".to_string(),
        Ok(s) => s,
        Err(()) => "<error>".to_string(),
    }
}
