/// A patch that could not be applied. `status_code()` and `reason()` say which API Status to
/// answer with; the Display text is its message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (400 BadRequest).
    #[error("{0}")]
    BadRequest(String),
    /// The patch is well formed but cannot be applied to this object (422 Invalid).
    #[error("{0}")]
    Unprocessable(String),
    /// Strategic merge patch is not available for this kind, e.g. custom resources (415).
    #[error("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml ({0})")]
    UnsupportedKind(String),
}

impl PatchError {
    pub fn status_code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::Unprocessable(_) => 422,
            PatchError::UnsupportedKind(_) => 415,
        }
    }

    /// The `reason` of the Kubernetes Status.
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::Unprocessable(_) => "Invalid",
            PatchError::UnsupportedKind(_) => "UnsupportedMediaType",
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Self {
        PatchError::BadRequest(message.into())
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        PatchError::Unprocessable(message.into())
    }
}
