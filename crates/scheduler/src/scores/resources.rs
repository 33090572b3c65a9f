//! NodeResourcesFit (LeastAllocated) and NodeResourcesBalancedAllocation over cpu and memory.

use super::MAX_NODE_SCORE;
use crate::node_info::NodeInfo;
use crate::requests::Resources;

/// Free share after placing the pod, averaged over cpu and memory (weights 1:1). Uses requests
/// with defaults for containers that request nothing, so best-effort pods still spread.
pub fn least_allocated(pod_non_zero: &Resources, node: &NodeInfo) -> i64 {
    let cpu = free_share(
        node.non_zero_requested
            .milli_cpu
            .saturating_add(pod_non_zero.milli_cpu),
        node.allocatable.milli_cpu,
    );
    let mem = free_share(
        node.non_zero_requested
            .memory
            .saturating_add(pod_non_zero.memory),
        node.allocatable.memory,
    );
    (cpu + mem) / 2
}

fn free_share(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    // i128: capacity × 100 overflows i64 for exabyte-sized nodes.
    (i128::from(capacity - requested) * i128::from(MAX_NODE_SCORE) / i128::from(capacity)) as i64
}

/// 100 when cpu and memory would be used in equal shares, less as they diverge. Real requests
/// only; a pod that requests nothing is not scored (0 everywhere).
pub fn balanced_allocation(pod_requests: &Resources, node: &NodeInfo) -> i64 {
    if pod_requests.milli_cpu == 0 && pod_requests.memory == 0 {
        return 0;
    }
    let fraction = |requested: i64, capacity: i64| -> Option<f64> {
        (capacity > 0).then(|| (requested as f64 / capacity as f64).min(1.0))
    };
    let fractions: Vec<f64> = [
        fraction(
            node.requested
                .milli_cpu
                .saturating_add(pod_requests.milli_cpu),
            node.allocatable.milli_cpu,
        ),
        fraction(
            node.requested.memory.saturating_add(pod_requests.memory),
            node.allocatable.memory,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let std_dev = match fractions.as_slice() {
        [a, b] => ((a - b) / 2.0).abs(),
        _ => 0.0,
    };
    ((1.0 - std_dev) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::tests::{node, placed};
    use std::sync::Arc;

    const GI: i64 = 1 << 30;

    fn info(placed_cpu: i64, placed_mem: i64) -> NodeInfo {
        let mut n = NodeInfo::new(Arc::new(node("n", "2", "4Gi", "110")));
        if placed_cpu > 0 || placed_mem > 0 {
            n.add_pod(placed("p", placed_cpu, placed_mem));
        }
        n
    }

    fn r(milli_cpu: i64, memory: i64) -> Resources {
        Resources {
            milli_cpu,
            memory,
            ..Default::default()
        }
    }

    #[test]
    fn least_allocated_values() {
        // cpu: (2000-500)/2000 = 75; memory: (4-1)/4 = 75.
        assert_eq!(least_allocated(&r(500, GI), &info(0, 0)), 75);
        // cpu: (2000-1500)/2000 = 25; memory: (4-3)/4 = 25.
        assert_eq!(least_allocated(&r(500, GI), &info(1000, 2 * GI)), 25);
        // Over capacity scores zero for that resource.
        assert_eq!(least_allocated(&r(3000, 0), &info(0, 0)), 50);
        let mut empty = NodeInfo::new(Arc::new(node("n", "0", "0", "0")));
        empty.allocatable = Resources::default();
        assert_eq!(least_allocated(&r(100, 100), &empty), 0);
    }

    #[test]
    fn balanced_allocation_values() {
        // cpu 1000/2000 = .5, memory 2Gi/4Gi = .5 → perfectly balanced.
        assert_eq!(balanced_allocation(&r(1000, 2 * GI), &info(0, 0)), 100);
        // cpu 1.0, memory .25 → std .375 → 62.
        assert_eq!(balanced_allocation(&r(2000, GI), &info(0, 0)), 62);
        // Fractions cap at 1.
        assert_eq!(balanced_allocation(&r(4000, 4 * GI), &info(0, 0)), 100);
        assert_eq!(
            balanced_allocation(&r(0, 0), &info(1000, GI)),
            0,
            "best-effort pods are not scored"
        );
    }
}
