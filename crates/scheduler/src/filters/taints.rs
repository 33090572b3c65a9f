//! TaintToleration: NoSchedule and NoExecute taints must be tolerated. A node whose Ready condition
//! is not True counts as carrying the taint Kubernetes' node lifecycle controller would put on it
//! (`not-ready` or `unreachable`), so only pods tolerating that land on it.

use k8s_openapi::api::core::v1::{Node, Taint, Toleration};
use peapod_apimachinery::placement::tolerated_by;

use super::{FilterResult, Rejection};

pub use peapod_apimachinery::well_known::{
    TAINT_NOT_READY as NOT_READY_KEY, TAINT_UNREACHABLE as UNREACHABLE_KEY,
};

/// The node's taints plus the readiness taint implied by its Ready condition.
pub fn effective_taints(node: &Node) -> Vec<Taint> {
    let mut taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.as_str());
    let implied = match ready {
        Some("True") => None,
        Some("False") => Some(NOT_READY_KEY),
        _ => Some(UNREACHABLE_KEY),
    };
    if let Some(key) = implied {
        if !taints
            .iter()
            .any(|t| t.key == key && t.effect == "NoSchedule")
        {
            taints.push(Taint {
                key: key.into(),
                effect: "NoSchedule".into(),
                ..Default::default()
            });
        }
    }
    taints
}

/// Kubernetes 1.33 wording: the first untolerated taint, as `{key: value}`.
pub fn untolerated_reason(taint: &Taint) -> String {
    format!(
        "node(s) had untolerated taint {{{}: {}}}",
        taint.key,
        taint.value.as_deref().unwrap_or("")
    )
}

pub fn taint_toleration(tolerations: &[Toleration], taints: &[Taint]) -> FilterResult {
    let untolerated = taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerated_by(tolerations, t));
    match untolerated {
        Some(t) => Err(Rejection::unresolvable(untolerated_reason(t))),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus};

    pub fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: if value.is_empty() {
                None
            } else {
                Some(value.into())
            },
            effect: effect.into(),
            ..Default::default()
        }
    }

    pub fn tol(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
        let opt = |s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(s.to_string())
            }
        };
        Toleration {
            key: opt(key),
            operator: opt(op),
            value: opt(value),
            effect: opt(effect),
            ..Default::default()
        }
    }

    #[test]
    fn only_hard_effects_filter() {
        let taints = vec![taint("soft", "", "PreferNoSchedule")];
        assert!(taint_toleration(&[], &taints).is_ok());
        let taints = vec![
            taint("soft", "", "PreferNoSchedule"),
            taint("evict", "now", "NoExecute"),
        ];
        let err = taint_toleration(&[], &taints).unwrap_err();
        assert_eq!(
            err,
            Rejection::unresolvable("node(s) had untolerated taint {evict: now}")
        );
        assert!(taint_toleration(&[tol("evict", "Exists", "", "")], &taints).is_ok());
    }

    #[test]
    fn the_first_untolerated_taint_is_named() {
        let taints = vec![taint("a", "1", "NoSchedule"), taint("b", "", "NoSchedule")];
        let err = taint_toleration(&[tol("a", "Equal", "1", "")], &taints).unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {b: }".to_string()]
        );
    }

    fn node_ready(status: Option<&str>, taints: Vec<Taint>) -> Node {
        Node {
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: status.map(|s| {
                    vec![NodeCondition {
                        type_: "Ready".into(),
                        status: s.into(),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn readiness_implies_a_taint() {
        assert!(effective_taints(&node_ready(Some("True"), vec![])).is_empty());
        assert_eq!(
            effective_taints(&node_ready(Some("False"), vec![])),
            vec![taint(NOT_READY_KEY, "", "NoSchedule")]
        );
        assert_eq!(
            effective_taints(&node_ready(Some("Unknown"), vec![])),
            vec![taint(UNREACHABLE_KEY, "", "NoSchedule")]
        );
        assert_eq!(
            effective_taints(&node_ready(None, vec![])),
            vec![taint(UNREACHABLE_KEY, "", "NoSchedule")]
        );
        // Already tainted by a controller: not doubled.
        let t = vec![taint(NOT_READY_KEY, "", "NoSchedule")];
        assert_eq!(effective_taints(&node_ready(Some("False"), t.clone())), t);

        let err = taint_toleration(&[], &effective_taints(&node_ready(Some("False"), vec![])))
            .unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {node.kubernetes.io/not-ready: }".to_string()]
        );
        let tolerating = [tol(NOT_READY_KEY, "Exists", "", "NoSchedule")];
        assert!(taint_toleration(
            &tolerating,
            &effective_taints(&node_ready(Some("False"), vec![]))
        )
        .is_ok());
    }
}
