//! The Kubernetes protobuf envelope: `k8s\0` followed by a `runtime.Unknown` message.

use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Map, Value};

use crate::error::DecodeError;
use crate::generated::dispatch::decode_kind;

/// Prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// True for `application/vnd.kubernetes.protobuf`, with or without parameters, any case.
pub fn is_protobuf_content_type(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case(PROTOBUF_MEDIA_TYPE)
}

/// Decodes a protobuf request body into the JSON object (with `apiVersion` and `kind`)
/// the same object would have had as an `application/json` body.
pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let payload = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or(DecodeError::BadMagic)?;
    let unknown = Unknown::decode(payload).map_err(|err| DecodeError::Malformed {
        what: "envelope".to_string(),
        detail: err.to_string(),
    })?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    if api_version.is_empty() || kind.is_empty() {
        return Err(DecodeError::MissingTypeMeta);
    }
    if let Some(encoding) = unknown.content_encoding.filter(|e| !e.is_empty()) {
        return Err(DecodeError::UnsupportedEncoding(encoding));
    }
    if let Some(content_type) = unknown.content_type.filter(|c| !c.is_empty()) {
        if !is_protobuf_content_type(&content_type) {
            return Err(DecodeError::UnsupportedContentType(content_type));
        }
    }
    let raw = unknown.raw.unwrap_or_default();
    let object =
        decode_kind(&api_version, &kind, &raw).ok_or_else(|| DecodeError::UnsupportedKind {
            api_version: api_version.clone(),
            kind: kind.clone(),
        })??;
    Ok(with_type_meta(api_version, kind, object))
}

/// Puts `apiVersion` and `kind` first, as Kubernetes' JSON encoder does.
fn with_type_meta(api_version: String, kind: String, object: Value) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".to_string(), Value::String(api_version));
    out.insert("kind".to_string(), Value::String(kind));
    if let Value::Object(fields) = object {
        out.extend(fields);
    }
    Value::Object(out)
}

/// Wraps an encoded message in the envelope, as a Kubernetes client does.
pub fn encode_envelope(api_version: &str, kind: &str, message: &[u8]) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
            api_version: Some(api_version.to_string()),
            kind: Some(kind.to_string()),
        }),
        raw: Some(message.to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = MAGIC.to_vec();
    body.extend(unknown.encode_to_vec());
    body
}
