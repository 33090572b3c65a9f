//! What a DaemonSet reconcile does, decided on a snapshot: which nodes get a pod and which
//! pods go. Per node: create where a pod should run and none exists, delete failed pods,
//! extra pods and pods on nodes that no longer admit them; then the rolling update replaces
//! old pods within maxUnavailable (delete first) or maxSurge (create first).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::placement::Placement;

/// A daemon pod as the plan sees it.
#[derive(Clone, Debug)]
pub struct PodView {
    pub name: String,
    pub created: Option<DateTime<Utc>>,
    /// Made from the current revision.
    pub updated: bool,
    pub ready: bool,
    pub available: bool,
    pub failed: bool,
    pub succeeded: bool,
    pub terminating: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    OnDelete,
    RollingUpdate {
        max_surge: i32,
        max_unavailable: i32,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub create_on: Vec<String>,
    pub delete: Vec<String>,
}

/// `placements` covers every node; `by_node` holds the pods per target node (pods whose
/// node does not exist included, under its name).
pub fn plan(
    placements: &BTreeMap<String, Placement>,
    by_node: &BTreeMap<String, Vec<PodView>>,
    strategy: Strategy,
) -> Plan {
    let surge = matches!(strategy, Strategy::RollingUpdate { max_surge, .. } if max_surge > 0);
    let mut create = BTreeSet::new();
    let mut delete = BTreeSet::new();
    let empty = Vec::new();
    for (node, p) in placements {
        let pods = by_node.get(node).unwrap_or(&empty);
        sync_node(node, *p, pods, surge, &mut create, &mut delete);
    }
    // Pods pinned to nodes that are gone and never bound: nothing else will remove them.
    for (node, pods) in by_node {
        if !placements.contains_key(node) {
            delete.extend(
                pods.iter()
                    .filter(|p| !p.terminating)
                    .map(|p| p.name.clone()),
            );
        }
    }
    if let Strategy::RollingUpdate {
        max_surge,
        max_unavailable,
    } = strategy
    {
        let on_nodes: BTreeMap<&String, &Vec<PodView>> = by_node
            .iter()
            .filter(|(n, _)| placements.contains_key(*n))
            .collect();
        if max_surge > 0 {
            surge_update(&on_nodes, max_surge, &mut create, &mut delete);
        } else {
            unavailable_update(&on_nodes, max_unavailable.max(1), &mut delete);
        }
    }
    Plan {
        create_on: create.into_iter().collect(),
        delete: delete.into_iter().collect(),
    }
}

fn sync_node(
    node: &str,
    p: Placement,
    pods: &[PodView],
    surge: bool,
    create: &mut BTreeSet<String>,
    delete: &mut BTreeSet<String>,
) {
    if pods.is_empty() {
        if p.should_run {
            create.insert(node.to_string());
        }
        return;
    }
    if !p.should_continue_running {
        delete.extend(
            pods.iter()
                .filter(|x| !x.terminating)
                .map(|x| x.name.clone()),
        );
        return;
    }
    let mut running: Vec<&PodView> = Vec::new();
    for x in pods.iter().filter(|x| !x.terminating) {
        if x.failed || x.succeeded {
            delete.insert(x.name.clone());
        } else {
            running.push(x);
        }
    }
    running.sort_by_key(|x| x.created);
    if !surge {
        delete.extend(running.iter().skip(1).map(|x| x.name.clone()));
        return;
    }
    // With surge, an old and a new pod may overlap until the new one is ready.
    let (mut oldest_new, mut oldest_old) = (None, None);
    for x in running {
        let slot = if x.updated {
            &mut oldest_new
        } else {
            &mut oldest_old
        };
        if slot.is_none() {
            *slot = Some(x);
        } else {
            delete.insert(x.name.clone());
        }
    }
    if let (Some(new), Some(old)) = (oldest_new, oldest_old) {
        if !old.ready || new.ready {
            delete.insert(old.name.clone());
        }
    }
}

/// The node's one new and one old live pod; None when the node has more than one of either
/// (the per-node sync cleans that up first).
fn new_and_old(pods: &[PodView]) -> Option<(Option<&PodView>, Option<&PodView>)> {
    let (mut new, mut old) = (None, None);
    for p in pods.iter().filter(|p| !p.terminating) {
        let slot = if p.updated { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(p);
    }
    Some((new, old))
}

fn unavailable_update(
    by_node: &BTreeMap<&String, &Vec<PodView>>,
    max_unavailable: i32,
    delete: &mut BTreeSet<String>,
) {
    let mut unavailable = 0;
    let mut replace_now = Vec::new();
    let mut candidates = Vec::new();
    for pods in by_node.values() {
        match new_and_old(pods) {
            None | Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
            Some((Some(new), None)) => {
                if !new.available {
                    unavailable += 1;
                }
            }
            Some((None, Some(old))) => {
                if !old.available {
                    replace_now.push(old.name.clone());
                } else {
                    candidates.push(old.name.clone());
                }
            }
        }
    }
    let budget = usize::try_from((max_unavailable - unavailable).max(0)).unwrap_or(0);
    delete.extend(replace_now);
    delete.extend(candidates.into_iter().take(budget));
}

fn surge_update(
    by_node: &BTreeMap<&String, &Vec<PodView>>,
    max_surge: i32,
    create: &mut BTreeSet<String>,
    delete: &mut BTreeSet<String>,
) {
    let mut surging = 0;
    let mut replace_now = Vec::new();
    let mut candidates = Vec::new();
    for (node, pods) in by_node {
        match new_and_old(pods) {
            Some((Some(new), Some(old))) => {
                if new.available {
                    delete.insert(old.name.clone());
                } else {
                    surging += 1;
                }
            }
            Some((None, Some(old))) => {
                if old.available {
                    candidates.push((*node).clone());
                } else {
                    replace_now.push((*node).clone());
                }
            }
            _ => {}
        }
    }
    let budget = usize::try_from((max_surge - surging).max(0)).unwrap_or(0);
    create.extend(replace_now);
    create.extend(candidates.into_iter().take(budget));
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: Placement = Placement {
        should_run: true,
        should_continue_running: true,
    };

    fn pod(name: &str, updated: bool, available: bool) -> PodView {
        PodView {
            name: name.into(),
            created: None,
            updated,
            ready: available,
            available,
            failed: false,
            succeeded: false,
            terminating: false,
        }
    }

    fn nodes(names: &[&str], p: Placement) -> BTreeMap<String, Placement> {
        names.iter().map(|n| (n.to_string(), p)).collect()
    }

    #[test]
    fn one_pod_per_eligible_node() {
        let mut placements = nodes(&["a", "b"], RUN);
        placements.insert(
            "tainted".into(),
            Placement {
                should_run: false,
                should_continue_running: false,
            },
        );
        let mut by_node = BTreeMap::new();
        by_node.insert(
            "b".to_string(),
            vec![pod("b1", true, true), pod("b2", true, true)],
        );
        by_node.insert("tainted".to_string(), vec![pod("t1", true, true)]);
        by_node.insert("gone".to_string(), vec![pod("g1", true, false)]);
        let p = plan(&placements, &by_node, Strategy::OnDelete);
        assert_eq!(p.create_on, ["a"]);
        assert_eq!(p.delete, ["b2", "g1", "t1"]);
    }

    #[test]
    fn terminating_pod_blocks_a_replacement_and_failed_pods_go() {
        let placements = nodes(&["a", "b"], RUN);
        let mut dying = pod("a1", true, false);
        dying.terminating = true;
        let mut failed = pod("b1", true, false);
        failed.failed = true;
        let by_node = [
            ("a".to_string(), vec![dying]),
            ("b".to_string(), vec![failed]),
        ]
        .into();
        let p = plan(&placements, &by_node, Strategy::OnDelete);
        assert!(p.create_on.is_empty());
        assert_eq!(p.delete, ["b1"]);
    }

    #[test]
    fn rolling_update_respects_max_unavailable() {
        let placements = nodes(&["a", "b", "c"], RUN);
        let by_node: BTreeMap<_, _> = [
            ("a".to_string(), vec![pod("a1", false, true)]),
            ("b".to_string(), vec![pod("b1", false, true)]),
            ("c".to_string(), vec![pod("c1", false, true)]),
        ]
        .into();
        let ru = Strategy::RollingUpdate {
            max_surge: 0,
            max_unavailable: 1,
        };
        assert_eq!(plan(&placements, &by_node, ru).delete, ["a1"]);
        // a is updated but not available yet: nothing else may go.
        let mut by_node = by_node;
        by_node.insert("a".into(), vec![pod("a2", true, false)]);
        assert!(plan(&placements, &by_node, ru).delete.is_empty());
        // An unavailable old pod is replaced regardless of the budget.
        by_node.insert("c".into(), vec![pod("c1", false, false)]);
        assert_eq!(plan(&placements, &by_node, ru).delete, ["c1"]);
        assert!(plan(&placements, &by_node, Strategy::OnDelete)
            .delete
            .is_empty());
    }

    #[test]
    fn rolling_update_with_surge_creates_first() {
        let placements = nodes(&["a", "b"], RUN);
        let ru = Strategy::RollingUpdate {
            max_surge: 1,
            max_unavailable: 0,
        };
        let mut by_node: BTreeMap<_, _> = [
            ("a".to_string(), vec![pod("a1", false, true)]),
            ("b".to_string(), vec![pod("b1", false, true)]),
        ]
        .into();
        let p = plan(&placements, &by_node, ru);
        assert_eq!(
            (p.create_on.as_slice(), p.delete.len()),
            (["a".to_string()].as_slice(), 0)
        );
        // The surge pod is not ready: keep both, surge nowhere else.
        by_node.insert(
            "a".into(),
            vec![pod("a1", false, true), pod("a2", true, false)],
        );
        assert_eq!(plan(&placements, &by_node, ru), Plan::default());
        // Ready: the old one goes and the next node may surge.
        by_node.insert(
            "a".into(),
            vec![pod("a1", false, true), pod("a2", true, true)],
        );
        let p = plan(&placements, &by_node, ru);
        assert_eq!(p.delete, ["a1"]);
        assert_eq!(p.create_on, ["b"]);
    }
}
