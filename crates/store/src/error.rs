use crate::Revision;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StoreError {
    #[error("key not found")]
    NotFound,
    #[error("key already exists")]
    AlreadyExists,
    /// The precondition failed: the object changed since `expected` was read.
    #[error("the object has been modified (current revision {current})")]
    Conflict { current: Revision },
    /// The requested history is gone.
    #[error("required revision has been compacted (oldest kept {compacted})")]
    Compacted { compacted: Revision },
    #[error("storage failure: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Internal(e.to_string())
    }
}
