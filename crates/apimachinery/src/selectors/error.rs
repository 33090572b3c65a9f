use std::fmt;

/// A selector that could not be parsed or is invalid. The message is meant for the `message` of a
/// 400 BadRequest Status, worded like the Kubernetes API server words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    message: String,
}

impl SelectorError {
    pub fn new(message: impl Into<String>) -> Self {
        SelectorError {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `prefix: ` in front, for errors found inside a larger construct.
    pub(crate) fn context(self, prefix: &str) -> Self {
        SelectorError {
            message: format!("{prefix}: {}", self.message),
        }
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}
