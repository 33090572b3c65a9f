//! The conversion trait every supported protobuf message implements.

use prost::Message;
use serde_json::Value;

use crate::error::DecodeError;

/// Converts a decoded protobuf message into the JSON Kubernetes would produce for it.
///
/// `Value::Null` means "the Go JSON encoder would write null" (e.g. a zero `Time`); callers
/// drop such fields, which k8s-openapi treats the same as an absent field.
pub(crate) trait ToJson {
    fn to_json(&self) -> Result<Value, DecodeError>;
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn to_json(&self) -> Result<Value, DecodeError> {
        (**self).to_json()
    }
}

/// Decodes `raw` as message `T` and converts it to JSON.
pub(crate) fn decode_message<T: Message + Default + ToJson>(
    raw: &[u8],
) -> Result<Value, DecodeError> {
    let message = T::decode(raw).map_err(|err| DecodeError::Malformed {
        what: "object".to_string(),
        detail: err.to_string(),
    })?;
    message.to_json()
}
