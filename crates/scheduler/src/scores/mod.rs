//! Scores: which feasible node is best? Each plugin scores 0..=100 per node; the total is the
//! weighted sum with Kubernetes' default weights (TaintToleration 3, NodeAffinity 2,
//! NodeResourcesFit 1, NodeResourcesBalancedAllocation 1).

pub mod affinity;
pub mod resources;
pub mod taints;

use rand::Rng;

use crate::filters::PodContext;
use crate::node_info::NodeInfo;

pub const MAX_NODE_SCORE: i64 = 100;

const TAINT_WEIGHT: i64 = 3;
const AFFINITY_WEIGHT: i64 = 2;
const LEAST_ALLOCATED_WEIGHT: i64 = 1;
const BALANCED_WEIGHT: i64 = 1;

/// The weighted total for each node, in the order given.
pub fn score_nodes(pod: &PodContext<'_>, nodes: &[&NodeInfo]) -> Vec<i64> {
    let mut taint = nodes
        .iter()
        .map(|n| taints::intolerable_prefer_no_schedule(pod.tolerations, n))
        .collect::<Vec<_>>();
    normalize(&mut taint, true);
    let mut affinity = nodes
        .iter()
        .map(|n| affinity::preferred_affinity(pod.pod, &n.node))
        .collect::<Vec<_>>();
    normalize(&mut affinity, false);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            TAINT_WEIGHT * taint[i]
                + AFFINITY_WEIGHT * affinity[i]
                + LEAST_ALLOCATED_WEIGHT * resources::least_allocated(&pod.non_zero_requests, n)
                + BALANCED_WEIGHT * resources::balanced_allocation(&pod.requests, n)
        })
        .collect()
}

/// Scales raw scores to 0..=100 relative to the highest (`reverse`: fewer is better).
pub fn normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max <= 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let scaled = MAX_NODE_SCORE * *s / max;
        *s = if reverse {
            MAX_NODE_SCORE - scaled
        } else {
            scaled
        };
    }
}

/// Index of a highest score; ties are broken uniformly at random.
pub fn pick_best(scores: &[i64], rng: &mut impl Rng) -> Option<usize> {
    let max = *scores.iter().max()?;
    let best: Vec<usize> = scores
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == max)
        .map(|(i, _)| i)
        .collect();
    best.get(rng.random_range(0..best.len())).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::tests::{node, placed};
    use k8s_openapi::api::core::v1::{Pod, PodSpec};
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn normalization() {
        let mut s = vec![0, 5, 10];
        normalize(&mut s, false);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 1, 4];
        normalize(&mut s, true);
        assert_eq!(s, vec![100, 75, 0]);
        let mut s = vec![0, 0];
        normalize(&mut s, true);
        assert_eq!(s, vec![100, 100]);
        let mut s = vec![0, 0];
        normalize(&mut s, false);
        assert_eq!(s, vec![0, 0]);
    }

    #[test]
    fn ties_are_broken_randomly() {
        let mut rng = rand::rng();
        assert_eq!(pick_best(&[], &mut rng), None);
        assert_eq!(pick_best(&[1, 9, 3], &mut rng), Some(1));
        let picks: HashSet<usize> = (0..200)
            .filter_map(|_| pick_best(&[7, 2, 7, 7], &mut rng))
            .collect();
        assert_eq!(picks, HashSet::from([0, 2, 3]));
    }

    #[test]
    fn emptier_node_scores_higher() {
        let empty = NodeInfo::new(Arc::new(node("a", "2", "4Gi", "110")));
        let mut busy = NodeInfo::new(Arc::new(node("b", "2", "4Gi", "110")));
        busy.add_pod(placed("x", 1000, 2 << 30));
        let pod = Pod {
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        let ctx = PodContext::new(&pod).unwrap();
        let scores = score_nodes(&ctx, &[&empty, &busy]);
        assert!(scores[0] > scores[1], "{scores:?}");
    }
}
