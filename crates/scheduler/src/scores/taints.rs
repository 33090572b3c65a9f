//! TaintToleration score: how many PreferNoSchedule taints the pod does not tolerate (fewer is
//! better; normalized in reverse by the caller).

use k8s_openapi::api::core::v1::Toleration;

use crate::node_info::NodeInfo;
use peapod_apimachinery::placement::tolerates;

pub fn intolerable_prefer_no_schedule(tolerations: &[Toleration], node: &NodeInfo) -> i64 {
    // Only tolerations that can apply to PreferNoSchedule count (that effect or all effects).
    let relevant: Vec<&Toleration> = tolerations
        .iter()
        .filter(|t| {
            t.effect
                .as_deref()
                .is_none_or(|e| e.is_empty() || e == "PreferNoSchedule")
        })
        .collect();
    let taints = node
        .node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default();
    taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|t| !relevant.iter().any(|tol| tolerates(tol, t)))
        .count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::taints::tests::{taint, tol};
    use crate::node_info::tests::node;
    use k8s_openapi::api::core::v1::NodeSpec;
    use std::sync::Arc;

    #[test]
    fn counts_untolerated_soft_taints() {
        let mut n = node("n", "1", "1Gi", "10");
        n.spec = Some(NodeSpec {
            taints: Some(vec![
                taint("a", "", "PreferNoSchedule"),
                taint("b", "x", "PreferNoSchedule"),
                taint("c", "", "NoSchedule"),
            ]),
            ..Default::default()
        });
        let info = NodeInfo::new(Arc::new(n));
        assert_eq!(intolerable_prefer_no_schedule(&[], &info), 2);
        assert_eq!(
            intolerable_prefer_no_schedule(&[tol("a", "Exists", "", "")], &info),
            1
        );
        assert_eq!(
            intolerable_prefer_no_schedule(&[tol("b", "Equal", "x", "PreferNoSchedule")], &info),
            1
        );
        assert_eq!(
            intolerable_prefer_no_schedule(&[tol("a", "Exists", "", "NoSchedule")], &info),
            2
        );
        assert_eq!(
            intolerable_prefer_no_schedule(&[tol("", "Exists", "", "")], &info),
            0
        );
    }
}
