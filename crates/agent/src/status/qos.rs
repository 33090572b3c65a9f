//! The pod's QoS class, as Kubernetes computes it (kept if the API server already set it).

use k8s_openapi::api::core::v1::{Container, PodSpec};
use peapod_apimachinery::quantity::Quantity;

pub fn qos_class(spec: &PodSpec) -> &'static str {
    let all: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &all {
        let res = c.resources.as_ref();
        let requests = res.and_then(|r| r.requests.as_ref());
        let limits = res.and_then(|r| r.limits.as_ref());
        for name in ["cpu", "memory"] {
            let req = requests.and_then(|m| m.get(name));
            let lim = limits.and_then(|m| m.get(name));
            if req.is_some() || lim.is_some() {
                any = true;
            }
            match (req, lim) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if !same_quantity(&r.0, &l.0) => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Equal in millis (rounded up), or textually equal when either does not parse.
fn same_quantity(a: &str, b: &str) -> bool {
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Ok(x), Ok(y)) => x.milli_value() == y.milli_value(),
        _ => a == b,
    }
}
