//! What a StatefulSet reconcile does, decided on a snapshot of its pods.
//! - Every ordinal in range gets a pod; failed or succeeded pods are deleted (and recreated
//!   on a later pass). OrderedReady works in ascending order and stops at the first pod that
//!   is missing, terminating or not yet healthy; Parallel does everything at once.
//! - Pods out of range go from the highest ordinal down (one at a time when ordered).
//! - RollingUpdate then deletes, from the highest ordinal down to `partition`, the first pod
//!   not at the update revision, waiting for each replacement to be healthy; OnDelete leaves
//!   pods alone.

/// A pod with a valid ordinal, as the plan sees it.
#[derive(Clone, Debug)]
pub struct PodView {
    pub name: String,
    pub ordinal: i32,
    pub revision: String,
    /// Running and Ready (for minReadySeconds when set).
    pub healthy: bool,
    pub terminating: bool,
    pub finished: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    OnDelete,
    RollingUpdate { partition: i32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revision {
    Current,
    Update,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Create { ordinal: i32, revision: Revision },
    Delete(String),
}

pub struct Input<'a> {
    pub start: i32,
    pub replicas: i32,
    pub ordered: bool,
    pub strategy: Strategy,
    pub current_revision: &'a str,
    pub update_revision: &'a str,
    pub pods: &'a [PodView],
}

/// Which revision a new pod at `index` (ordinal minus start) is made from.
fn revision_for(input: &Input, index: i32) -> Revision {
    match input.strategy {
        Strategy::RollingUpdate { partition }
            if index < partition && input.current_revision != input.update_revision =>
        {
            Revision::Current
        }
        _ => Revision::Update,
    }
}

pub fn plan(input: &Input) -> Vec<Step> {
    let end = input.start.saturating_add(input.replicas.max(0));
    let in_range = |o: i32| o >= input.start && o < end;
    let mut steps = Vec::new();

    for ordinal in input.start..end {
        let pod = input.pods.iter().find(|p| p.ordinal == ordinal);
        let blocked = match pod {
            None => {
                steps.push(Step::Create {
                    ordinal,
                    revision: revision_for(input, ordinal - input.start),
                });
                true
            }
            Some(p) if p.finished => {
                if !p.terminating {
                    steps.push(Step::Delete(p.name.clone()));
                }
                true
            }
            Some(p) => p.terminating || !p.healthy,
        };
        if blocked && input.ordered {
            return steps;
        }
    }

    let mut condemned: Vec<&PodView> = input.pods.iter().filter(|p| !in_range(p.ordinal)).collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(p.ordinal));
    let first_unhealthy = condemned
        .iter()
        .find(|p| p.terminating || !p.healthy)
        .map(|p| p.ordinal);
    for p in condemned {
        if p.terminating {
            if input.ordered {
                return steps;
            }
            continue;
        }
        if input.ordered && !p.healthy && first_unhealthy != Some(p.ordinal) {
            return steps;
        }
        steps.push(Step::Delete(p.name.clone()));
        if input.ordered {
            return steps;
        }
    }

    let Strategy::RollingUpdate { partition } = input.strategy else {
        return steps;
    };
    let lowest = input.start.saturating_add(partition.max(0));
    for ordinal in (lowest..end).rev() {
        let Some(p) = input.pods.iter().find(|p| p.ordinal == ordinal) else {
            return steps;
        };
        if p.revision != input.update_revision && !p.terminating {
            steps.push(Step::Delete(p.name.clone()));
            return steps;
        }
        if p.terminating || !p.healthy {
            return steps;
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ordinal: i32, rev: &str, healthy: bool) -> PodView {
        PodView {
            name: format!("web-{ordinal}"),
            ordinal,
            revision: rev.into(),
            healthy,
            terminating: false,
            finished: false,
        }
    }

    fn input<'a>(replicas: i32, ordered: bool, pods: &'a [PodView]) -> Input<'a> {
        Input {
            start: 0,
            replicas,
            ordered,
            strategy: Strategy::RollingUpdate { partition: 0 },
            current_revision: "r1",
            update_revision: "r1",
            pods,
        }
    }

    fn create(ordinal: i32) -> Step {
        Step::Create {
            ordinal,
            revision: Revision::Update,
        }
    }

    fn delete(ordinal: i32) -> Step {
        Step::Delete(format!("web-{ordinal}"))
    }

    #[test]
    fn ordered_ready_creates_one_at_a_time() {
        assert_eq!(plan(&input(3, true, &[])), [create(0)]);
        assert!(plan(&input(3, true, &[pod(0, "r1", false)])).is_empty());
        assert_eq!(plan(&input(3, true, &[pod(0, "r1", true)])), [create(1)]);
        assert_eq!(
            plan(&input(3, false, &[])),
            [create(0), create(1), create(2)]
        );
    }

    #[test]
    fn scale_down_goes_from_the_top_one_at_a_time() {
        let pods = [pod(0, "r1", true), pod(1, "r1", true), pod(2, "r1", true)];
        assert_eq!(plan(&input(1, true, &pods)), [delete(2)]);
        let mut dying = pods.clone();
        dying[2].terminating = true;
        assert!(plan(&input(1, true, &dying)).is_empty());
        assert_eq!(plan(&input(1, false, &pods)), [delete(2), delete(1)]);
        // A replica in range that is unhealthy blocks ordered scale-down.
        let mut sick = pods.clone();
        sick[0].healthy = false;
        assert!(plan(&input(1, true, &sick)).is_empty());
    }

    #[test]
    fn failed_pods_are_replaced() {
        let mut p = pod(0, "r1", false);
        p.finished = true;
        assert_eq!(plan(&input(2, true, &[p])), [delete(0)]);
    }

    #[test]
    fn rolling_update_honours_partition_from_the_top() {
        let pods = [pod(0, "r1", true), pod(1, "r1", true), pod(2, "r1", true)];
        let mut i = input(3, true, &pods);
        i.update_revision = "r2";
        i.strategy = Strategy::RollingUpdate { partition: 1 };
        assert_eq!(plan(&i), [delete(2)]);
        let pods = [pod(0, "r1", true), pod(1, "r1", true), pod(2, "r2", false)];
        i.pods = &pods;
        assert!(plan(&i).is_empty(), "waits for web-2 to be healthy");
        let pods = [pod(0, "r1", true), pod(1, "r1", true), pod(2, "r2", true)];
        i.pods = &pods;
        assert_eq!(plan(&i), [delete(1)]);
        let pods = [pod(0, "r1", true), pod(1, "r2", true), pod(2, "r2", true)];
        i.pods = &pods;
        assert!(plan(&i).is_empty(), "ordinal 0 is below the partition");
        // A pod below the partition is recreated at the current revision.
        let pods = [pod(1, "r2", true), pod(2, "r2", true)];
        i.pods = &pods;
        assert_eq!(
            plan(&i),
            [Step::Create {
                ordinal: 0,
                revision: Revision::Current
            }]
        );
        i.strategy = Strategy::OnDelete;
        let pods = [pod(0, "r1", true), pod(1, "r1", true), pod(2, "r1", true)];
        i.pods = &pods;
        assert!(plan(&i).is_empty());
    }
}
