//! Errors of the image store. Callers (the node agent, the CLI) match on a few kinds
//! (not found, bad reference) and print the rest.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("image {0:?} not found")]
    NotFound(String),
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("invalid image archive {path}: {reason}")]
    InvalidArchive { path: String, reason: String },
    #[error("invalid image data: {0}")]
    InvalidImage(String),
    #[error("registry error: {0}")]
    Registry(String),
    #[error("invalid registries config {path}: {reason}")]
    RegistriesConfig { path: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, ImageError>;

impl ImageError {
    pub(crate) fn archive(path: &Path, reason: impl Into<String>) -> Self {
        ImageError::InvalidArchive {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}

/// Attaches a human context (usually an action and a path) to io errors.
pub(crate) trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| ImageError::Io {
            context: context(),
            source,
        })
    }
}
