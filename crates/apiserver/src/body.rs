//! Request bodies: size limit, media types (JSON, YAML, Kubernetes protobuf) and decoding.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};

/// Kubernetes' limit for a request body.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// After the limit, this much more is read and discarded so that the client (HTTP/2 in
/// particular) receives the 413 instead of a reset stream; beyond it the stream is cut.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

pub async fn read(body: Body) -> ApiResult<bytes::Bytes> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        total += chunk.len();
        if total <= MAX_BODY {
            buf.extend_from_slice(&chunk);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > MAX_BODY {
        return Err(ApiError::too_large());
    }
    Ok(buf.freeze())
}

pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Decodes an object body of the given media type.
pub fn decode(content_type: &str, bytes: &[u8]) -> ApiResult<Value> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let v = match content_type {
        "" | "application/json" | "*/*" => parse_json(bytes)?,
        "application/yaml"
        | "application/x-yaml"
        | "text/yaml"
        | "application/apply-patch+yaml" => parse_yaml(bytes)?,
        "application/vnd.kubernetes.protobuf" => peapod_protobuf::decode(bytes)
            .map_err(|e| ApiError::bad_request(format!("protobuf decoding error: {e}")))?,
        other => return Err(ApiError::unsupported_media(other)),
    };
    Ok(v)
}

pub fn parse_json(bytes: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "couldn't decode the request body: json parse error: {e}"
        ))
    })
}

pub fn parse_yaml(bytes: &[u8]) -> ApiResult<Value> {
    // JSON is valid YAML but parse it as JSON first: exact numbers, no YAML 1.1 surprises.
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("the request body is not valid UTF-8"))?;
    // Kubernetes reads YAML as YAML 1.1 (go-yaml v2): `0644` is octal, `yes` is true.
    let opts = serde_saphyr::options! {
        legacy_octal_numbers: true,
    };
    serde_saphyr::from_str_with_options::<Value>(text, opts).map_err(|e| {
        ApiError::bad_request(format!(
            "couldn't decode the request body: yaml parse error: {e}"
        ))
    })
}

/// The type/kind check every object body gets: apiVersion and kind, if given, must be the
/// endpoint's; missing ones are filled in.
pub fn check_type(obj: &mut Value, api_version: &str, kind: &str) -> ApiResult<()> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    match map.get("kind").and_then(Value::as_str) {
        Some(k) if !k.is_empty() && k != kind => {
            return Err(ApiError::bad_request(format!(
                "the body of the request was of kind {k:?}, expected {kind:?}"
            )))
        }
        _ => {}
    }
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(v) if !v.is_empty() && v != api_version => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )))
        }
        _ => {}
    }
    map.insert("kind".into(), Value::String(kind.into()));
    map.insert("apiVersion".into(), Value::String(api_version.into()));
    // metadata must be an object when present.
    if map
        .get("metadata")
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        return Err(ApiError::bad_request("metadata must be an object"));
    }
    Ok(())
}
