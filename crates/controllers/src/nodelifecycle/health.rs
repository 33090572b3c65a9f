//! Node health from heartbeats. A heartbeat is any change of the node's Lease renewTime or
//! of its Ready condition's lastHeartbeatTime; it is timed by when this controller saw it
//! (not by the agent's clock, which may be skewed). A node silent for longer than the grace
//! period gets its conditions set to Unknown.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, NodeCondition};

/// The conditions the node agent owns and that go Unknown when it stops reporting.
pub const AGENT_CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
pub const UNKNOWN_REASON: &str = "NodeStatusUnknown";
pub const UNKNOWN_MESSAGE: &str = "Kubelet stopped posting node status.";
pub const NEVER_REASON: &str = "NodeStatusNeverUpdated";
pub const NEVER_MESSAGE: &str = "Kubelet never posted node status.";

type Beat = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Per node: the last heartbeat values seen and when they were seen.
#[derive(Default)]
pub struct Tracker {
    seen: HashMap<String, (Beat, DateTime<Utc>)>,
}

pub fn ready_heartbeat(node: &Node) -> Option<DateTime<Utc>> {
    let c = ready_condition(node)?;
    c.last_heartbeat_time
        .as_ref()
        .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
}

pub fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

impl Tracker {
    /// Records the node's current heartbeat values; returns when the last change was seen.
    pub fn observe(
        &mut self,
        node: &str,
        lease_renewed: Option<DateTime<Utc>>,
        ready_beat: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let beat = (lease_renewed, ready_beat);
        match self.seen.get_mut(node) {
            Some((last, at)) if *last == beat => *at,
            Some(entry) => {
                *entry = (beat, now);
                now
            }
            None => {
                self.seen.insert(node.to_string(), (beat, now));
                now
            }
        }
    }

    /// Forgets nodes that no longer exist.
    pub fn retain(&mut self, exists: impl Fn(&str) -> bool) {
        self.seen.retain(|n, _| exists(n));
    }
}

/// The conditions a silent node gets: every agent condition that is not Unknown yet becomes
/// Unknown (missing ones are added); None when nothing changes.
pub fn unknown_conditions(node: &Node, now: DateTime<Utc>) -> Option<Vec<NodeCondition>> {
    let mut conds: Vec<NodeCondition> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let at = peapod_apimachinery::timeconv::time(now);
    let mut changed = false;
    for t in AGENT_CONDITIONS {
        match conds.iter_mut().find(|c| c.type_ == t) {
            Some(c) if c.status == "Unknown" => {}
            Some(c) => {
                c.status = "Unknown".into();
                c.reason = Some(UNKNOWN_REASON.into());
                c.message = Some(UNKNOWN_MESSAGE.into());
                c.last_transition_time = Some(at.clone());
                changed = true;
            }
            None => {
                conds.push(NodeCondition {
                    type_: t.into(),
                    status: "Unknown".into(),
                    reason: Some(NEVER_REASON.into()),
                    message: Some(NEVER_MESSAGE.into()),
                    last_heartbeat_time: Some(at.clone()),
                    last_transition_time: Some(at.clone()),
                });
                changed = true;
            }
        }
    }
    changed.then_some(conds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeStatus;

    #[test]
    fn heartbeats_are_timed_when_seen() {
        let mut t = Tracker::default();
        let t0 = Utc::now();
        let later = t0 + chrono::Duration::seconds(30);
        let beat = Some(t0);
        assert_eq!(t.observe("n", beat, None, t0), t0);
        assert_eq!(t.observe("n", beat, None, later), t0, "no new heartbeat");
        assert_eq!(t.observe("n", Some(later), None, later), later);
        t.retain(|_| false);
        assert_eq!(
            t.observe("n", Some(later), None, later + chrono::Duration::seconds(1)),
            later + chrono::Duration::seconds(1)
        );
    }

    #[test]
    fn silent_node_conditions_go_unknown_once() {
        let node = Node {
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let conds = unknown_conditions(&node, Utc::now()).unwrap_or_default();
        assert_eq!(conds.len(), 4);
        let ready = conds
            .iter()
            .find(|c| c.type_ == "Ready")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_deref()),
            ("Unknown", Some(UNKNOWN_REASON))
        );
        let again = Node {
            status: Some(NodeStatus {
                conditions: Some(conds),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(unknown_conditions(&again, Utc::now()).is_none());
    }
}
