//! Node join: the server writes a join token to `DATA/node-token`; an agent on another
//! machine presents it once to receive node credentials (a client certificate with
//! CN=`system:node:<name>`, O=`system:nodes`) and the cluster CA.

use std::path::Path;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::errors::{ApiError, ApiResult};
use crate::respond;
use crate::state::SharedState;

pub const PATH: &str = "/peapod/v1/node-credentials";

/// The join token, created on first start.
pub fn load_or_create_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("node-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_string());
        }
    }
    let token: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    crate::pki::write_private(&path, &format!("{token}\n"))?;
    Ok(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn node_credentials(
    state: &SharedState,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    if !constant_time_eq(presented.as_bytes(), state.node_token.as_bytes()) {
        return Err(ApiError::unauthorized());
    }
    let req = crate::body::parse_json(body)?;
    let node = req
        .get("nodeName")
        .and_then(|v| v.as_str())
        .filter(|n| {
            peapod_apimachinery::selectors::validate_label_value(n).is_ok() && !n.is_empty()
        })
        .ok_or_else(|| ApiError::bad_request("nodeName is required and must be a valid name"))?;
    let creds = state
        .pki
        .issue_client(&format!("system:node:{node}"), &["system:nodes"])
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({"caCert": state.ca_pem, "clientCert": creds.cert_pem, "clientKey": creds.key_pem}),
    ))
}
