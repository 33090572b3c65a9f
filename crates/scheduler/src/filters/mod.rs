//! Filters: can this pod run on this node? Each is a pure function; `run_filters` applies them in
//! Kubernetes' default plugin order and stops at the first rejection, as the framework does.

pub mod affinity;
pub mod fit;
pub mod ports;
pub mod taints;
pub mod unschedulable;

use k8s_openapi::api::core::v1::{Pod, PodSpec, Toleration};

use crate::node_info::{self, HostPort, NodeInfo};
use crate::requests::{self, Missing, RequestsError, Resources};

/// How final a rejection is: whether evicting lower-priority pods could ever help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Would fit if some pods left the node (resources, ports).
    Unschedulable,
    /// Nothing running on the node matters (labels, taints, cordon).
    UnschedulableAndUnresolvable,
}

/// Why a node was rejected, in Kubernetes' reason strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: Code,
    pub reasons: Vec<String>,
}

impl Rejection {
    pub fn unresolvable(reason: impl Into<String>) -> Self {
        Rejection {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
        }
    }
    pub fn unschedulable(reasons: Vec<String>) -> Self {
        Rejection {
            code: Code::Unschedulable,
            reasons,
        }
    }
}

pub type FilterResult = Result<(), Rejection>;

/// What the filters need from a pod, computed once per scheduling attempt.
#[derive(Debug, Clone)]
pub struct PodContext<'a> {
    pub pod: &'a Pod,
    pub requests: Resources,
    pub non_zero_requests: Resources,
    pub host_ports: Vec<HostPort>,
    pub tolerations: &'a [Toleration],
    pub priority: i32,
}

impl<'a> PodContext<'a> {
    pub fn new(pod: &'a Pod) -> Result<Self, RequestsError> {
        let default_spec;
        let spec = match &pod.spec {
            Some(s) => s,
            None => {
                default_spec = PodSpec::default();
                &default_spec
            }
        };
        Ok(PodContext {
            pod,
            requests: requests::pod_requests(spec, Missing::Zero)?,
            non_zero_requests: requests::pod_requests(spec, Missing::Defaulted)?,
            host_ports: node_info::pod_host_ports(pod),
            tolerations: pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.as_deref())
                .unwrap_or_default(),
            priority: pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0),
        })
    }
}

/// NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit — in that order.
pub fn run_filters(pod: &PodContext<'_>, node: &NodeInfo) -> FilterResult {
    unschedulable::node_unschedulable(pod.tolerations, &node.node)?;
    taints::taint_toleration(pod.tolerations, &taints::effective_taints(&node.node))?;
    affinity::node_affinity(pod.pod, &node.node)?;
    ports::host_ports_fit(&pod.host_ports, node)?;
    fit::resources_fit(&pod.requests, node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::tests::{node, placed};
    use k8s_openapi::api::core::v1::{NodeSpec, Taint};
    use std::sync::Arc;

    #[test]
    fn first_failing_filter_wins() {
        let mut n = node("n", "1", "1Gi", "1");
        n.spec = Some(NodeSpec {
            unschedulable: Some(true),
            taints: Some(vec![Taint {
                key: "k".into(),
                effect: "NoSchedule".into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let mut info = NodeInfo::new(Arc::new(n));
        info.add_pod(placed("x", 0, 0));
        let pod = Pod {
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        let ctx = PodContext::new(&pod).unwrap();
        let r = run_filters(&ctx, &info).unwrap_err();
        assert_eq!(r.reasons, vec!["node(s) were unschedulable".to_string()]);
        assert_eq!(r.code, Code::UnschedulableAndUnresolvable);
    }

    #[test]
    fn a_pod_without_spec_is_handled() {
        let pod = Pod::default();
        let ctx = PodContext::new(&pod).unwrap();
        assert!(ctx.requests.is_zero());
        assert!(ctx.host_ports.is_empty());
    }
}
