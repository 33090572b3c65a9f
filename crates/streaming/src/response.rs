//! HTTP responses carrying a metav1.Status.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::StreamError;
use crate::status;

/// The Status JSON for `err` with its HTTP code, as kubectl expects errors.
pub fn error_response(err: &StreamError) -> Response {
    let code = StatusCode::from_u16(err.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = status::error_status(err).to_string();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl IntoResponse for StreamError {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}

/// 403 for a client whose certificate is valid but not allowed here.
pub fn forbidden() -> Response {
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "this client certificate is not allowed to use the node's streaming API",
        "reason": "Forbidden",
        "code": 403,
    });
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
