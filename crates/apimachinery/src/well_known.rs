//! Names Kubernetes gives a meaning to (taint keys, annotations, namespaces, the version it
//! reports) that more than one crate needs: one definition each, so they cannot drift apart.

/// The Kubernetes release whose API peapod serves (k8s-openapi `v1_33`): the API server's
/// `/version` and the kubelet version a Node reports.
pub const KUBERNETES_VERSION: &str = "v1.33.1";

/// Where each node's heartbeat Lease lives.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// Marks a mirror pod (a static pod's API copy): admission plugins leave such pods alone.
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Node taint keys the node lifecycle controller sets, the scheduler assumes for a node that is
/// not Ready, and pods are given default tolerations for.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
