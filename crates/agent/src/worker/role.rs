//! What part a container plays in its pod, decided once from the spec.

use k8s_openapi::api::core::v1::{Container, PodSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Runs to completion, one after another, before the app containers.
    Init,
    /// An init container with `restartPolicy: Always`: started in init order, then kept
    /// running (and restarted) beside the app containers.
    Sidecar,
    App,
}

impl Role {
    fn of_init(c: &Container) -> Role {
        if c.restart_policy.as_deref() == Some("Always") {
            Role::Sidecar
        } else {
            Role::Init
        }
    }

    /// Listed under `spec.initContainers` (what events, probes and hooks name it by).
    pub(super) fn listed_as_init(self) -> bool {
        self != Role::App
    }
}

/// The pod's containers with their roles: init containers (sidecars among them) in order,
/// then the app containers.
pub(super) fn containers(spec: &PodSpec) -> Vec<(&Container, Role)> {
    spec.init_containers
        .iter()
        .flatten()
        .map(|c| (c, Role::of_init(c)))
        .chain(spec.containers.iter().map(|c| (c, Role::App)))
        .collect()
}

/// The pod's restartPolicy (Always when unset).
pub(super) fn restart_policy(spec: &PodSpec) -> &str {
    spec.restart_policy.as_deref().unwrap_or("Always")
}
