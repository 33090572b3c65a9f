//! API errors, answered as `metav1.Status` with Kubernetes' codes and reasons.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::registry::ResourceInfo;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// One field-level problem, as Kubernetes lists them in `details.causes`.
#[derive(Debug, Clone)]
pub struct Cause {
    pub reason: String,
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn not_found(res: &ResourceInfo, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", res.group_resource()),
        )
        .with_details(details(res, name))
    }

    pub fn not_found_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn already_exists(res: &ResourceInfo, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", res.group_resource()),
        )
        .with_details(details(res, name))
    }

    pub fn conflict(res: &ResourceInfo, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                res.group_resource()
            ),
        )
        .with_details(details(res, name))
    }

    pub fn conflict_msg(res: &ResourceInfo, name: &str, msg: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {msg}",
                res.group_resource()
            ),
        )
        .with_details(details(res, name))
    }

    pub fn invalid(res: &ResourceInfo, name: &str, causes: Vec<Cause>) -> Self {
        let list: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let summary = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = details(res, name);
        d["kind"] = json!(res.gvk.kind);
        d["causes"] = Value::Array(
            causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect(),
        );
        Self::new(
            422,
            "Invalid",
            format!("{} \"{name}\" is invalid: {summary}", res.gvk.kind),
        )
        .with_details(d)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn unsupported_media(ct: &str) -> Self {
        Self::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {ct:?})"))
    }

    pub fn too_large() -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// The `Status` body, keys in kube-apiserver's order (clients that compare bodies as
    /// text see the same bytes).
    pub fn to_status(&self) -> Value {
        let mut s = serde_json::Map::new();
        s.insert("kind".into(), json!("Status"));
        s.insert("apiVersion".into(), json!("v1"));
        s.insert("metadata".into(), json!({}));
        s.insert("status".into(), json!("Failure"));
        if !self.message.is_empty() {
            s.insert("message".into(), json!(self.message));
        }
        if !self.reason.is_empty() {
            s.insert("reason".into(), json!(self.reason));
        }
        if let Some(d) = &self.details {
            s.insert("details".into(), ordered_details(d));
        }
        s.insert("code".into(), json!(self.code));
        Value::Object(s)
    }
}

/// A success `Status` (deletions that complete at once, evictions, bindings).
pub fn success_status(details: Option<Value>, code: Option<u16>) -> Value {
    let mut s = serde_json::Map::new();
    s.insert("kind".into(), json!("Status"));
    s.insert("apiVersion".into(), json!("v1"));
    s.insert("metadata".into(), json!({}));
    s.insert("status".into(), json!("Success"));
    if let Some(d) = &details {
        s.insert("details".into(), ordered_details(d));
    }
    if let Some(code) = code {
        s.insert("code".into(), json!(code));
    }
    Value::Object(s)
}

/// `StatusDetails` with its keys in Go's field order (name, group, kind, uid, causes,
/// retryAfterSeconds), each cause as reason, message, field; empty values left out as
/// `omitempty` does.
fn ordered_details(d: &Value) -> Value {
    const KEYS: [&str; 6] = [
        "name",
        "group",
        "kind",
        "uid",
        "causes",
        "retryAfterSeconds",
    ];
    let Some(obj) = d.as_object() else {
        return d.clone();
    };
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    };
    let mut out = serde_json::Map::new();
    for key in KEYS
        .iter()
        .copied()
        .chain(obj.keys().map(String::as_str).filter(|k| !KEYS.contains(k)))
    {
        let Some(v) = obj.get(key).filter(|v| !empty(v)) else {
            continue;
        };
        let v = if key == "causes" {
            Value::Array(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(ordered_cause)
                    .collect(),
            )
        } else {
            v.clone()
        };
        out.insert(key.to_string(), v);
    }
    Value::Object(out)
}

fn ordered_cause(c: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in ["reason", "message", "field"] {
        if let Some(v) = c.get(key).filter(|v| v.as_str() != Some("")) {
            out.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

fn details(res: &ResourceInfo, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": res.plural});
    if !res.gvk.group.is_empty() {
        d["group"] = json!(res.gvk.group);
    }
    d
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        crate::respond::json(code, &self.to_status())
    }
}

impl From<peapod_store::StoreError> for ApiError {
    fn from(e: peapod_store::StoreError) -> Self {
        match e {
            peapod_store::StoreError::Compacted { compacted } => ApiError::expired(format!(
                "too old resource version (oldest available {compacted})"
            )),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for ApiError {}
