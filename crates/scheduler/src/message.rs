//! FailedScheduling messages in Kubernetes' format:
//! `0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {k: v}.
//! preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2
//! Preemption is not helpful for scheduling.`

use std::collections::BTreeMap;

use crate::filters::Rejection;

/// Message when the cluster has no nodes at all.
pub const NO_NODES: &str = "no nodes available to schedule pods";
pub const PREEMPTION_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
pub const PREEMPTION_POLICY_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
pub const TERMINATING_ON_NOMINATED: &str =
    "not eligible due to a terminating pod on the nominated node.";

/// `"<count> <reason>"` for every distinct reason, sorted as strings (as upstream does, so
/// "10 x" sorts before "2 y").
pub fn reason_histogram<'a>(rejections: impl IntoIterator<Item = &'a Rejection>) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rejections {
        for reason in &r.reasons {
            *counts.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut lines: Vec<String> = counts
        .into_iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    lines.sort();
    lines
}

/// The whole message: every node's rejection counted, then what preemption said (if anything).
pub fn fit_error<'a>(
    num_nodes: usize,
    rejections: impl IntoIterator<Item = &'a Rejection>,
    post_filter: &str,
) -> String {
    let mut msg = format!("0/{num_nodes} nodes are available:");
    let hist = reason_histogram(rejections);
    if !hist.is_empty() {
        msg.push_str(&format!(" {}.", hist.join(", ")));
    }
    if !post_filter.is_empty() {
        msg.push(' ');
        msg.push_str(post_filter);
    }
    msg
}

/// The post-filter part when preemption found nothing to evict.
pub fn preemption_failed<'a>(
    num_nodes: usize,
    per_node: impl IntoIterator<Item = &'a Rejection>,
) -> String {
    format!("preemption: {}", fit_error(num_nodes, per_node, ""))
}

pub fn preemption_not_eligible(why: &str) -> String {
    format!("preemption: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::Code;

    fn unres(reason: &str) -> Rejection {
        Rejection::unresolvable(reason)
    }
    fn unsched(reasons: &[&str]) -> Rejection {
        Rejection {
            code: Code::Unschedulable,
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn single_node_insufficient_memory() {
        let filter = [unsched(&["Insufficient memory"])];
        let post = preemption_failed(1, &[unres(NO_VICTIMS)]);
        assert_eq!(
            fit_error(1, &filter, &post),
            "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: \
             1 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn selector_mismatch() {
        let filter = [unres("node(s) didn't match Pod's node affinity/selector")];
        let post = preemption_failed(1, &[unres(PREEMPTION_NOT_HELPFUL)]);
        assert_eq!(
            fit_error(1, &filter, &post),
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: \
             0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn reasons_are_counted_and_sorted_as_strings() {
        let mut filter = vec![
            unsched(&["Insufficient cpu", "Insufficient memory"]),
            unsched(&["Insufficient memory"]),
        ];
        filter.extend((0..10).map(|_| unres("node(s) had untolerated taint {a: }")));
        assert_eq!(
            reason_histogram(&filter),
            vec![
                "1 Insufficient cpu".to_string(),
                "10 node(s) had untolerated taint {a: }".to_string(),
                "2 Insufficient memory".to_string(),
            ]
        );
        let post = preemption_failed(12, &[unres(NO_VICTIMS), unres(NO_VICTIMS)]);
        assert_eq!(
            fit_error(12, &filter, &post),
            "0/12 nodes are available: 1 Insufficient cpu, 10 node(s) had untolerated taint {a: }, \
             2 Insufficient memory. preemption: 0/12 nodes are available: 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn preemption_policy_never() {
        let filter = [unsched(&["Too many pods"])];
        assert_eq!(
            fit_error(1, &filter, &preemption_not_eligible(PREEMPTION_POLICY_NEVER)),
            "0/1 nodes are available: 1 Too many pods. preemption: not eligible due to preemptionPolicy=Never."
        );
    }

    #[test]
    fn no_post_filter_message() {
        assert_eq!(
            fit_error(2, &[unsched(&["Insufficient cpu"])], ""),
            "0/2 nodes are available: 1 Insufficient cpu."
        );
    }
}
