//! Response helpers: everything the server answers is JSON.

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::Value;

pub fn json(code: StatusCode, v: &Value) -> Response {
    json_bytes(
        code,
        serde_json::to_vec(v).unwrap_or_default(),
        "application/json",
    )
}

pub fn json_bytes(code: StatusCode, mut body: Vec<u8>, content_type: &str) -> Response {
    // Go's json.Encoder ends every document with a newline; clients that compare bodies as
    // text expect it.
    if content_type.starts_with("application/json") && body.last() != Some(&b'\n') {
        body.push(b'\n');
    }
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = code;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

pub fn text(code: StatusCode, body: impl Into<String>) -> Response {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
