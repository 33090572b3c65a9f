//! Errors a caller tells apart by type rather than by message.

/// What the caller asked of a container cannot be set up (a volume it names does not exist,
/// a subPath cannot be prepared): the kubelet reports these as `CreateContainerConfigError`,
/// and only the runtime's own failures as `CreateContainerError`. Carried inside the
/// `anyhow::Error` of `Runtime::create_container`; find it with `downcast_ref`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ContainerConfigError(pub String);

/// The container was created but its process could not be executed (no such executable,
/// not executable, a working directory that cannot be entered). runc-based runtimes fail
/// the start for these, so the kubelet reports `RunContainerError` and backs off rather
/// than `CreateContainerError`. Carried inside the `anyhow::Error` of
/// `Runtime::create_container`; find it with `downcast_ref`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProcessStartError(pub String);

/// A call that waits for a container's process gave up after its timeout (an exec probe or
/// hook that ran too long; the process is killed). Returned by `Runtime::exec_sync`.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {0:?}")]
pub struct TimeoutError(pub std::time::Duration);

/// What kind of failure a supervisor reply carries, so a typed error survives the socket
/// (errors cross it as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ErrorKind {
    ProcessStart,
}

impl ErrorKind {
    /// The kind of `e`, when it is one a caller classifies.
    pub(crate) fn of(e: &anyhow::Error) -> Option<ErrorKind> {
        e.downcast_ref::<ProcessStartError>()
            .map(|_| ErrorKind::ProcessStart)
    }

    /// Rebuilds the typed error from a reply's message.
    pub(crate) fn error(self, message: String) -> anyhow::Error {
        match self {
            ErrorKind::ProcessStart => anyhow::Error::new(ProcessStartError(message)),
        }
    }
}
