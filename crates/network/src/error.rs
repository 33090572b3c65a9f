//! The one error type of the crate: every failure says what was being done.

use std::path::PathBuf;

/// Errors returned by pod network operations.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The caller passed something unusable (bad CIDR, sandbox id, port...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The address range has no free address left.
    #[error("no free address left in {0}")]
    Exhausted(String),
    /// A hostPort is already taken by another pod on this node.
    #[error("host port conflict: {0}")]
    PortConflict(String),
    /// A netlink request failed.
    #[error("netlink: {context}: {message}")]
    Netlink { context: String, message: String },
    /// A file system operation failed.
    #[error("{context} ({path}): {source}")]
    Io {
        context: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The `nft` tool rejected a rule set or could not be run.
    #[error("nftables: {0}")]
    Nft(String),
    /// A CNI plugin failed or returned something unusable.
    #[error("cni: {0}")]
    Cni(String),
}

/// Result alias for this crate.
pub type Result<T, E = NetworkError> = std::result::Result<T, E>;

impl NetworkError {
    pub(crate) fn io(
        context: impl Into<String>,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        NetworkError::Io {
            context: context.into(),
            path: path.into(),
            source,
        }
    }

    pub(crate) fn netlink(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        NetworkError::Netlink {
            context: context.into(),
            message: err.to_string(),
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        NetworkError::InvalidInput(msg.into())
    }
}
