use thiserror::Error;

/// Why a ServiceAccount token was not accepted (or could not be issued). Messages follow the
/// wording of the Kubernetes token authenticator where it has one.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("unsupported token signing algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("token was signed by an unknown key")]
    UnknownKey,
    #[error("invalid signature")]
    BadSignature,
    /// Not issued by this server: other authenticators may still claim it.
    #[error("token issuer {0:?} is not accepted")]
    WrongIssuer(String),
    #[error("service account token has expired")]
    Expired,
    #[error("service account token is not valid yet")]
    NotYetValid,
    #[error("token audiences {token:?} is invalid for the target audiences {accepted:?}")]
    WrongAudience {
        token: Vec<String>,
        accepted: Vec<String>,
    },
    /// The ServiceAccount or the bound object is gone, was recreated, or is being deleted.
    #[error("{0}")]
    Invalidated(String),
    #[error("signing the token failed")]
    SigningFailed,
}
