//! The error `prepare` reports, shaped like the kubelet's FailedMount event.

use std::fmt;

/// Why a pod's volumes could not be set up. `reason` is the event reason (`FailedMount`) and
/// `message` the Kubernetes-style text, e.g.
/// `MountVolume.SetUp failed for volume "cfg" : configmap "x" not found`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeError {
    pub reason: String,
    pub message: String,
}

pub(crate) const FAILED_MOUNT: &str = "FailedMount";

impl VolumeError {
    /// A setup failure of volume `volume` with the kubelet's message prefix.
    pub(crate) fn setup_failed(volume: &str, cause: &str) -> Self {
        VolumeError {
            reason: FAILED_MOUNT.to_string(),
            message: format!("MountVolume.SetUp failed for volume {volume:?} : {cause}"),
        }
    }

    /// A failure that concerns the pod as a whole rather than one volume.
    pub(crate) fn pod(message: impl Into<String>) -> Self {
        VolumeError {
            reason: FAILED_MOUNT.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for VolumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for VolumeError {}
