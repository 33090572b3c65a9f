//! Errors a caller tells apart by type rather than by message.

/// What the caller asked of a container cannot be set up (a volume it names does not exist,
/// a subPath cannot be prepared): the kubelet reports these as `CreateContainerConfigError`,
/// and only the runtime's own failures as `CreateContainerError`. Carried inside the
/// `anyhow::Error` of `Runtime::create_container`; find it with `downcast_ref`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ContainerConfigError(pub String);
