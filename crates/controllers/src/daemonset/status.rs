//! A DaemonSet's status counters, computed per node from the oldest daemon pod there.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};

use super::placement::Placement;
use super::plan::PodView;
use crate::replicaset::count;

pub fn compute(
    ds: &DaemonSet,
    placements: &BTreeMap<String, Placement>,
    by_node: &BTreeMap<String, Vec<PodView>>,
) -> DaemonSetStatus {
    let (mut desired, mut current, mut misscheduled) = (0, 0, 0);
    let (mut ready, mut available, mut updated) = (0, 0, 0);
    for (node, p) in placements {
        let pods = by_node.get(node).map(Vec::as_slice).unwrap_or_default();
        if !p.should_run {
            if !pods.is_empty() {
                misscheduled += 1;
            }
            continue;
        }
        desired += 1;
        let Some(oldest) = pods.iter().min_by_key(|x| x.created) else {
            continue;
        };
        current += 1;
        ready += usize::from(oldest.ready);
        available += usize::from(oldest.available);
        updated += usize::from(oldest.updated);
    }
    let old = ds.status.clone().unwrap_or_default();
    DaemonSetStatus {
        desired_number_scheduled: count(desired),
        current_number_scheduled: count(current),
        number_misscheduled: count(misscheduled),
        number_ready: count(ready),
        number_available: Some(count(available)),
        number_unavailable: Some(count(desired.saturating_sub(available))),
        updated_number_scheduled: Some(count(updated)),
        observed_generation: ds.metadata.generation,
        collision_count: old.collision_count,
        conditions: old.conditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, secs: i64, updated: bool, ready: bool) -> PodView {
        PodView {
            name: name.into(),
            created: chrono::DateTime::from_timestamp(secs, 0),
            updated,
            ready,
            available: ready,
            failed: false,
            succeeded: false,
            terminating: false,
        }
    }

    #[test]
    fn counts_the_oldest_pod_per_node() {
        let run = Placement {
            should_run: true,
            should_continue_running: true,
        };
        let skip = Placement {
            should_run: false,
            should_continue_running: false,
        };
        let placements: BTreeMap<_, _> = [
            ("a".to_string(), run),
            ("b".to_string(), run),
            ("c".to_string(), run),
            ("d".to_string(), skip),
        ]
        .into();
        let by_node: BTreeMap<_, _> = [
            (
                "a".to_string(),
                vec![pod("new", 20, true, false), pod("old", 10, false, true)],
            ),
            ("b".to_string(), vec![pod("b", 10, true, true)]),
            ("d".to_string(), vec![pod("d", 10, true, true)]),
        ]
        .into();
        let s = compute(&DaemonSet::default(), &placements, &by_node);
        assert_eq!(
            (
                s.desired_number_scheduled,
                s.current_number_scheduled,
                s.number_misscheduled
            ),
            (3, 2, 1)
        );
        assert_eq!(s.number_ready, 2);
        assert_eq!(s.updated_number_scheduled, Some(1));
        assert_eq!(s.number_unavailable, Some(1));
    }
}
