//! Node join, k3s-style: the server writes `DATA/node-token` = `PP10<sha256 of the CA PEM>::<secret>`.
//! An agent on another machine fetches the CA from the unauthenticated `/peapod/v1/cacerts`,
//! checks it against the hash in its token (so it cannot be fooled into joining another
//! server), then presents the secret over verified TLS to receive node credentials: a client
//! certificate with CN=`system:node:<name>`, O=`system:nodes`, and a serving certificate for its
//! streaming port.

use std::path::Path;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::errors::{ApiError, ApiResult};
use crate::respond;
use crate::state::SharedState;

pub const PATH: &str = "/peapod/v1/node-credentials";
pub const CA_PATH: &str = "/peapod/v1/cacerts";

/// The secret part of the join token, created on first start; the token file also carries
/// the CA hash.
pub fn load_or_create_token(data_dir: &Path, ca_pem: &str) -> anyhow::Result<String> {
    let path = data_dir.join("node-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if let Some((_, secret)) = t.trim().split_once("::") {
            if !secret.is_empty() {
                return Ok(secret.to_string());
            }
        }
    }
    let secret: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let hash = sha256_hex(ca_pem.as_bytes());
    crate::pki::write_private(&path, &format!("PP10{hash}::{secret}\n"))?;
    Ok(secret)
}

pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
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
    let ips: Vec<std::net::IpAddr> = req
        .get("addresses")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()?.parse().ok()).collect())
        .unwrap_or_default();
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
    let serving = state
        .pki
        .issue_server(&[node.to_string(), "localhost".into()], &ips)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "caCert": state.ca_pem,
            "clientCert": creds.cert_pem, "clientKey": creds.key_pem,
            "servingCert": serving.cert_pem, "servingKey": serving.key_pem,
        }),
    ))
}
