//! What the pod worker knows about a pod at one instant: the input of the status builder.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use peapod_runtime::ContainerStatus as RtStatus;

/// Why a container is not running, when the worker knows better than the runtime
/// (image pull errors, config errors, back-off).
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub reason: String,
    pub message: Option<String>,
}

impl Waiting {
    pub fn new(reason: &str, message: impl Into<Option<String>>) -> Self {
        Waiting {
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// One container of the pod.
#[derive(Debug, Clone, Default)]
pub struct ContainerView {
    pub name: String,
    /// Image as reported in the status (the normalised reference once pulled).
    pub image: String,
    /// `docker.io/library/x@sha256:…` or `sha256:<config digest>`; empty until pulled.
    pub image_id: String,
    /// The newest instance in the runtime.
    pub current: Option<RtStatus>,
    /// The instance before it (always exited), for `lastState`.
    pub previous: Option<RtStatus>,
    /// Set while the container is not running for a reason only the worker knows; an
    /// exited `current` with a waiting reason is "about to restart".
    pub waiting: Option<Waiting>,
    /// Readiness probe result (true without a readiness probe once running).
    pub ready: bool,
    /// Startup probe passed (true without one once running).
    pub started: bool,
    /// Init container with `restartPolicy: Always`.
    pub sidecar: bool,
}

/// A decision that ends the pod (admission rejection, deadline).
#[derive(Debug, Clone, PartialEq)]
pub struct Terminal {
    pub phase: &'static str,
    pub reason: String,
    pub message: String,
}

/// Everything the status builder needs.
pub struct PodView<'a> {
    pub pod: &'a Pod,
    pub init: Vec<ContainerView>,
    pub containers: Vec<ContainerView>,
    /// Sandbox created and network configured.
    pub sandbox_ready: bool,
    pub pod_ips: Vec<String>,
    pub host_ip: String,
    pub start_time: Option<DateTime<Utc>>,
    pub terminal: Option<Terminal>,
    pub now: DateTime<Utc>,
}
