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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Response;

    /// A reply read back from the socket carries the same error type.
    fn across_socket(e: anyhow::Error) -> anyhow::Error {
        let line = serde_json::to_string(&Response::failure(&e)).unwrap();
        let resp: Response = serde_json::from_str(&line).unwrap();
        resp.into_result().unwrap_err()
    }

    #[test]
    fn a_process_start_error_stays_typed_across_the_socket() {
        let e = anyhow::Error::new(ProcessStartError("no such file".into())).context("creating");
        let back = across_socket(e);
        assert!(back.downcast_ref::<ProcessStartError>().is_some());
        assert_eq!(format!("{back:#}"), "creating: no such file");
    }

    #[test]
    fn other_errors_stay_plain() {
        let back = across_socket(anyhow::anyhow!("boom"));
        assert!(back.downcast_ref::<ProcessStartError>().is_none());
        assert_eq!(back.to_string(), "boom");
    }
}
