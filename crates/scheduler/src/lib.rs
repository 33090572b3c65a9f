//! peapod's scheduler: assigns pods to nodes with Kubernetes' default semantics, talking to the
//! API server only through the public API (kube-rs reflectors for nodes and pods, `pods/binding`,
//! `pods/status`, events).
//!
//! The decision logic is pure and lives in its own modules ([`filters`], [`scores`],
//! [`algorithm`], [`message`], [`requests`]); [`run`] is the loop around it.

pub mod algorithm;
mod api;
mod change;
mod events;
pub mod filters;
pub mod message;
pub mod node_info;
pub mod queue;
pub mod requests;
mod run_loop;
pub mod scores;

#[cfg(test)]
mod placement_fixtures;

use k8s_openapi::api::core::v1::Pod;

pub use queue::Backoff;
pub use run_loop::run;

/// The name pods ask for in `spec.schedulerName` (and the API server's default for it).
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Pods whose `spec.schedulerName` equals this are ours; also the events' source component.
    pub scheduler_name: String,
    /// Retry timing for pods that did not fit.
    pub backoff: Backoff,
    /// How many binding requests may be in flight at once.
    pub bind_concurrency: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            scheduler_name: DEFAULT_SCHEDULER_NAME.into(),
            backoff: Backoff::default(),
            bind_concurrency: 16,
        }
    }
}

/// Succeeded and Failed pods hold nothing on their node.
pub(crate) fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

pub(crate) fn is_bound(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

/// Is this pod waiting for `scheduler_name` to place it?
pub fn wants_scheduling(pod: &Pod, scheduler_name: &str) -> bool {
    let Some(spec) = &pod.spec else { return false };
    let name = spec
        .scheduler_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_SCHEDULER_NAME);
    !is_bound(pod)
        && name == scheduler_name
        && pod.metadata.deletion_timestamp.is_none()
        && spec.scheduling_gates.as_ref().is_none_or(|g| g.is_empty())
        && !is_terminal(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSchedulingGate, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn which_pods_are_ours() {
        let base = Pod {
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        assert!(
            wants_scheduling(&base, DEFAULT_SCHEDULER_NAME),
            "empty schedulerName means the default"
        );
        assert!(!wants_scheduling(&base, "other"));
        let mut p = base.clone();
        p.spec.as_mut().unwrap().scheduler_name = Some("other".into());
        assert!(wants_scheduling(&p, "other"));
        assert!(!wants_scheduling(&p, DEFAULT_SCHEDULER_NAME));
        let mut p = base.clone();
        p.spec.as_mut().unwrap().node_name = Some("n1".into());
        assert!(
            !wants_scheduling(&p, DEFAULT_SCHEDULER_NAME),
            "already has a node"
        );
        let mut p = base.clone();
        p.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
        assert!(
            !wants_scheduling(&p, DEFAULT_SCHEDULER_NAME),
            "being deleted"
        );
        let mut p = base.clone();
        p.spec.as_mut().unwrap().scheduling_gates = Some(vec![PodSchedulingGate {
            name: "wait".into(),
        }]);
        assert!(!wants_scheduling(&p, DEFAULT_SCHEDULER_NAME), "gated");
        p.spec.as_mut().unwrap().scheduling_gates = Some(vec![]);
        assert!(
            wants_scheduling(&p, DEFAULT_SCHEDULER_NAME),
            "gates removed"
        );
        let mut p = base.clone();
        p.status = Some(PodStatus {
            phase: Some("Failed".into()),
            ..Default::default()
        });
        assert!(!wants_scheduling(&p, DEFAULT_SCHEDULER_NAME), "terminal");
        assert!(
            !wants_scheduling(&Pod::default(), DEFAULT_SCHEDULER_NAME),
            "no spec"
        );
    }
}
