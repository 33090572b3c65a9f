//! One scheduling decision over a snapshot of nodes: filter, then score and pick — or, when no
//! node fits, work out what preemption could do and say why in Kubernetes' words.

use rand::Rng;

use crate::filters::{run_filters, Code, PodContext, Rejection};
use crate::message;
use crate::node_info::{NodeInfo, PlacedPod};
use crate::scores;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Index into the node slice.
    Fits(usize),
    /// No node can take the pod; `preempt` names lower-priority pods whose eviction would let it in.
    Unschedulable {
        message: String,
        preempt: Option<Preemption>,
    },
    /// There are no nodes at all.
    NoNodes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preemption {
    pub node: usize,
    pub victims: Vec<Victim>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Victim {
    pub uid: String,
    pub key: String,
    pub priority: i32,
}

pub fn schedule(pod: &PodContext<'_>, nodes: &[NodeInfo], rng: &mut impl Rng) -> Outcome {
    if nodes.is_empty() {
        return Outcome::NoNodes;
    }
    let mut feasible = Vec::new();
    let mut rejections: Vec<(usize, Rejection)> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        match run_filters(pod, node) {
            Ok(()) => feasible.push(i),
            Err(r) => rejections.push((i, r)),
        }
    }
    match feasible.as_slice() {
        [] => {}
        [only] => return Outcome::Fits(*only),
        _ => {
            let candidates: Vec<&NodeInfo> = feasible.iter().map(|i| &nodes[*i]).collect();
            let scores = scores::score_nodes(pod, &candidates);
            if let Some(best) = scores::pick_best(&scores, rng) {
                return Outcome::Fits(feasible[best]);
            }
        }
    }
    let (post_filter, preempt) = post_filter(pod, nodes, &rejections);
    let message = message::fit_error(nodes.len(), rejections.iter().map(|(_, r)| r), &post_filter);
    Outcome::Unschedulable { message, preempt }
}

/// DefaultPreemption's verdict: a message when nothing can be evicted, else the chosen victims.
fn post_filter(
    pod: &PodContext<'_>,
    nodes: &[NodeInfo],
    rejections: &[(usize, Rejection)],
) -> (String, Option<Preemption>) {
    let policy = pod
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.preemption_policy.as_deref());
    if policy == Some("Never") {
        return (
            message::preemption_not_eligible(message::PREEMPTION_POLICY_NEVER),
            None,
        );
    }
    // Victims evicted earlier are still terminating: wait for them instead of evicting more.
    let nominated = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty());
    if let Some(node) = nominated.and_then(|name| nodes.iter().find(|n| n.name() == name)) {
        if node
            .pods
            .iter()
            .any(|p| p.terminating && p.priority < pod.priority)
        {
            return (
                message::preemption_not_eligible(message::TERMINATING_ON_NOMINATED),
                None,
            );
        }
    }
    let mut statuses = Vec::new();
    let mut candidates = Vec::new();
    for (i, rejection) in rejections {
        if rejection.code == Code::UnschedulableAndUnresolvable {
            statuses.push(Rejection::unresolvable(message::PREEMPTION_NOT_HELPFUL));
            continue;
        }
        match select_victims(pod, &nodes[*i]) {
            Ok(victims) => candidates.push(Preemption { node: *i, victims }),
            Err(r) => statuses.push(r),
        }
    }
    match pick_candidate(candidates) {
        Some(p) => (String::new(), Some(p)),
        None => (message::preemption_failed(nodes.len(), &statuses), None),
    }
}

/// The fewest lower-priority pods whose removal lets the pod fit: remove them all, then give back
/// (most important first) every one the pod can live with.
fn select_victims(pod: &PodContext<'_>, node: &NodeInfo) -> Result<Vec<Victim>, Rejection> {
    let mut lower: Vec<PlacedPod> = node
        .pods
        .iter()
        .filter(|p| p.priority < pod.priority)
        .cloned()
        .collect();
    if lower.is_empty() {
        return Err(Rejection::unresolvable(message::NO_VICTIMS));
    }
    let mut trial = node.clone();
    for p in &lower {
        trial.remove_pod(&p.uid);
    }
    run_filters(pod, &trial)?;
    lower.sort_by_key(|p| std::cmp::Reverse(p.priority));
    let mut victims = Vec::new();
    for p in lower {
        trial.add_pod(p.clone());
        if run_filters(pod, &trial).is_err() {
            trial.remove_pod(&p.uid);
            victims.push(Victim {
                uid: p.uid,
                key: p.key,
                priority: p.priority,
            });
        }
    }
    Ok(victims)
}

/// Least harm first: lowest top victim priority, then lowest priority sum, then fewest victims.
fn pick_candidate(candidates: Vec<Preemption>) -> Option<Preemption> {
    candidates.into_iter().min_by_key(|c| {
        let top = c
            .victims
            .iter()
            .map(|v| v.priority)
            .max()
            .unwrap_or(i32::MIN);
        // Offset so negative priorities still sum as "more harm" than none (as upstream does).
        let sum: i64 = c
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
            .sum();
        (top, sum, c.victims.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::tests::{node, placed};
    use crate::requests::tests::container;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus, Pod, PodSpec};
    use std::sync::Arc;

    fn ready(mut n: k8s_openapi::api::core::v1::Node) -> k8s_openapi::api::core::v1::Node {
        let status = n.status.get_or_insert_with(NodeStatus::default);
        status.conditions = Some(vec![NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }]);
        n
    }

    fn info(name: &str) -> NodeInfo {
        NodeInfo::new(Arc::new(ready(node(name, "2", "4Gi", "110"))))
    }

    fn pod(memory: &str, priority: Option<i32>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![container("c", &[("memory", memory)])],
                priority,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn no_nodes() {
        let p = pod("1Gi", None);
        assert_eq!(
            schedule(&PodContext::new(&p).unwrap(), &[], &mut rand::rng()),
            Outcome::NoNodes
        );
    }

    #[test]
    fn picks_the_emptier_node() {
        let mut busy = info("busy");
        busy.add_pod(placed("x", 1500, 3 << 30));
        let nodes = vec![busy, info("idle")];
        let p = pod("512Mi", None);
        for _ in 0..20 {
            assert_eq!(
                schedule(&PodContext::new(&p).unwrap(), &nodes, &mut rand::rng()),
                Outcome::Fits(1)
            );
        }
    }

    #[test]
    fn too_big_for_any_node() {
        let p = pod("5Gi", None);
        let out = schedule(
            &PodContext::new(&p).unwrap(),
            &[info("n1")],
            &mut rand::rng(),
        );
        assert_eq!(
            out,
            Outcome::Unschedulable {
                message: "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: \
                          1 No preemption victims found for incoming pod."
                    .into(),
                preempt: None,
            }
        );
    }

    #[test]
    fn mixed_reasons_across_nodes() {
        let mut cordoned = (*info("c").node).clone();
        cordoned.spec = Some(NodeSpec {
            unschedulable: Some(true),
            ..Default::default()
        });
        let mut full = info("full");
        full.add_pod(placed("x", 0, 4 << 30));
        let nodes = vec![NodeInfo::new(Arc::new(cordoned)), full];
        let p = pod("1Gi", None);
        let Outcome::Unschedulable { message, .. } =
            schedule(&PodContext::new(&p).unwrap(), &nodes, &mut rand::rng())
        else {
            panic!("expected unschedulable")
        };
        assert_eq!(
            message,
            "0/2 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable. preemption: 0/2 nodes \
             are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn preemption_picks_the_fewest_lowest_priority_victims() {
        let mut n = info("n");
        let mut low = placed("low", 0, 2 << 30);
        low.priority = 1;
        let mut lowest = placed("lowest", 0, 1 << 30);
        lowest.priority = 0;
        let mut high = placed("high", 0, 1 << 30);
        high.priority = 100;
        n.add_pod(low);
        n.add_pod(lowest);
        n.add_pod(high);
        // Needs 1Gi: evicting "lowest" alone is enough; "high" is never a victim.
        let p = pod("1Gi", Some(10));
        let Outcome::Unschedulable { message, preempt } = schedule(
            &PodContext::new(&p).unwrap(),
            std::slice::from_ref(&n),
            &mut rand::rng(),
        ) else {
            panic!("expected unschedulable")
        };
        assert_eq!(message, "0/1 nodes are available: 1 Insufficient memory.");
        let preempt = preempt.expect("a preemption candidate");
        assert_eq!(preempt.node, 0);
        assert_eq!(
            preempt
                .victims
                .iter()
                .map(|v| v.uid.as_str())
                .collect::<Vec<_>>(),
            vec!["lowest"]
        );

        // Never preempts: the policy message instead.
        let mut never = pod("1Gi", Some(10));
        never.spec.as_mut().unwrap().preemption_policy = Some("Never".into());
        let Outcome::Unschedulable { message, preempt } =
            schedule(&PodContext::new(&never).unwrap(), &[n], &mut rand::rng())
        else {
            panic!("expected unschedulable")
        };
        assert!(preempt.is_none());
        assert!(
            message.ends_with("preemption: not eligible due to preemptionPolicy=Never."),
            "{message}"
        );
    }

    #[test]
    fn evicting_everything_lower_is_still_not_enough() {
        let mut n = info("n");
        let mut high = placed("high", 0, 3 << 30);
        high.priority = 100;
        let mut low = placed("low", 0, 1 << 29);
        low.priority = 0;
        n.add_pod(high);
        n.add_pod(low);
        let p = pod("2Gi", Some(10));
        let Outcome::Unschedulable { message, preempt } =
            schedule(&PodContext::new(&p).unwrap(), &[n], &mut rand::rng())
        else {
            panic!("expected unschedulable")
        };
        assert!(preempt.is_none());
        assert_eq!(
            message,
            "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Insufficient memory."
        );
    }
}
