//! Errors for protobuf request bodies, worded for a Kubernetes `Status` message.

/// Why a protobuf request body could not be turned into JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body does not start with the `k8s\0` prefix every Kubernetes protobuf body has.
    #[error("protobuf body does not start with the Kubernetes magic prefix \"k8s\\x00\"")]
    BadMagic,
    /// The wire data is truncated or otherwise not valid protobuf.
    #[error("malformed protobuf {what}: {detail}")]
    Malformed { what: String, detail: String },
    /// The `runtime.Unknown` envelope does not say which apiVersion/kind it carries.
    #[error("protobuf envelope is missing apiVersion or kind")]
    MissingTypeMeta,
    /// The envelope declares a content encoding (e.g. gzip) this server does not undo.
    #[error("unsupported content encoding {0:?} in protobuf envelope")]
    UnsupportedEncoding(String),
    /// The envelope carries a payload type other than Kubernetes protobuf.
    #[error("unsupported content type {0:?} in protobuf envelope")]
    UnsupportedContentType(String),
    /// The kind is not one this server can decode from protobuf.
    #[error("protobuf decoding of kind {kind} (apiVersion {api_version}) is not supported; send JSON instead")]
    UnsupportedKind { api_version: String, kind: String },
    /// A field decoded fine but has a value with no JSON form (bad time, non-JSON raw object, ...).
    #[error("invalid value for {field}: {detail}")]
    InvalidValue { field: String, detail: String },
}

impl DecodeError {
    /// HTTP status an API server should answer with: 415 when the body is well-formed but
    /// its kind/encoding is not supported, 400 when the body itself is bad.
    pub fn http_status(&self) -> u16 {
        match self {
            DecodeError::UnsupportedEncoding(_)
            | DecodeError::UnsupportedContentType(_)
            | DecodeError::UnsupportedKind { .. } => 415,
            _ => 400,
        }
    }

    pub(crate) fn invalid(field: &str, detail: impl Into<String>) -> Self {
        DecodeError::InvalidValue {
            field: field.to_string(),
            detail: detail.into(),
        }
    }
}
