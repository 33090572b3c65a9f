//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods that tolerate
//! `node.kubernetes.io/unschedulable:NoSchedule`.

use k8s_openapi::api::core::v1::{Node, Taint, Toleration};

use super::{FilterResult, Rejection};
use peapod_apimachinery::placement::tolerates;

pub const REASON: &str = "node(s) were unschedulable";
pub use peapod_apimachinery::well_known::TAINT_UNSCHEDULABLE as TAINT_KEY;

pub fn node_unschedulable(tolerations: &[Toleration], node: &Node) -> FilterResult {
    let cordoned = node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    let taint = Taint {
        key: TAINT_KEY.into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    if cordoned && !tolerations.iter().any(|t| tolerates(t, &taint)) {
        return Err(Rejection::unresolvable(REASON));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;

    fn cordoned(flag: Option<bool>) -> Node {
        Node {
            spec: Some(NodeSpec {
                unschedulable: flag,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn cordoned_node_rejects_unless_tolerated() {
        assert!(node_unschedulable(&[], &cordoned(None)).is_ok());
        assert!(node_unschedulable(&[], &cordoned(Some(false))).is_ok());
        assert!(node_unschedulable(&[], &Node::default()).is_ok());
        let err = node_unschedulable(&[], &cordoned(Some(true))).unwrap_err();
        assert_eq!(err, Rejection::unresolvable(REASON));
        let tol = Toleration {
            key: Some(TAINT_KEY.into()),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(node_unschedulable(&[tol], &cordoned(Some(true))).is_ok());
        let wrong_effect = Toleration {
            key: Some(TAINT_KEY.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            ..Default::default()
        };
        assert!(node_unschedulable(&[wrong_effect], &cordoned(Some(true))).is_err());
    }
}
