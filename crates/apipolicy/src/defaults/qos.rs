//! Pod QoS class from container requests and limits (cpu and memory only).

use peapod_apimachinery::quantity::Quantity;
use serde_json::Value;
use std::collections::BTreeMap;

const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

fn collect(
    spec: &Value,
    field: &str,
    sum: &mut BTreeMap<&'static str, Quantity>,
    per_container: &mut dyn FnMut(&BTreeMap<&'static str, Quantity>),
) {
    for list in ["containers", "initContainers"] {
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut mine = BTreeMap::new();
            let map = c
                .get("resources")
                .and_then(|r| r.get(field))
                .and_then(Value::as_object);
            for name in QOS_RESOURCES {
                let Some(q) = map
                    .and_then(|m| m.get(name))
                    .and_then(|v| Quantity::from_json(v).ok())
                else {
                    continue;
                };
                if q.is_zero() {
                    continue;
                }
                mine.insert(name, q);
                let total = sum.entry(name).or_insert_with(Quantity::zero);
                *total = total.saturating_add(&q);
            }
            per_container(&mine);
        }
    }
}

/// Guaranteed when every container limits cpu and memory and requests equal limits;
/// BestEffort when nothing is requested or limited; Burstable otherwise.
pub fn pod_qos_class(spec: &Value) -> &'static str {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    collect(spec, "requests", &mut requests, &mut |_| {});
    let mut guaranteed = true;
    collect(spec, "limits", &mut limits, &mut |mine| {
        if mine.len() != QOS_RESOURCES.len() {
            guaranteed = false;
        }
    });
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        for (name, req) in &requests {
            if limits.get(name).is_none_or(|lim| lim != req) {
                guaranteed = false;
                break;
            }
        }
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}
