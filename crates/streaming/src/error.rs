//! Errors a backend or a request can produce, and their HTTP/Status mapping.

use thiserror::Error;

/// An error from the streaming server or its backend.
///
/// Each variant maps to one metav1.Status `reason` and HTTP code, so kubectl prints
/// `Error from server (<Reason>): <message>` exactly as it does against a kubelet.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StreamError {
    /// Unknown pod or container (404 NotFound).
    #[error("{0}")]
    NotFound(String),
    /// Invalid request: bad container name, bad query parameter, container not running (400 BadRequest).
    #[error("{0}")]
    BadRequest(String),
    /// Anything that went wrong on the node (500 InternalError).
    #[error("{0}")]
    Internal(String),
}

impl StreamError {
    /// HTTP status code of this error.
    pub fn code(&self) -> u16 {
        match self {
            StreamError::NotFound(_) => 404,
            StreamError::BadRequest(_) => 400,
            StreamError::Internal(_) => 500,
        }
    }

    /// metav1.Status `reason` of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            StreamError::NotFound(_) => "NotFound",
            StreamError::BadRequest(_) => "BadRequest",
            StreamError::Internal(_) => "InternalError",
        }
    }

    /// Shorthand for an internal error from anything displayable.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        StreamError::Internal(err.to_string())
    }
}
