//! Pod streams (`log`, `exec`, `attach`, `portforward`) are served by the node agent that
//! runs the pod. The API server forwards the request unchanged to the agent's HTTPS port
//! (authenticating with its own client certificate) and, for upgrades (WebSocket exec,
//! SPDY port-forward), splices the two connections together byte for byte.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::pki::CertPair;
use crate::registry;
use crate::request::ResourceRequest;
use crate::state::SharedState;

const DEFAULT_KUBELET_PORT: u16 = 10250;

/// TLS client settings for talking to node agents.
pub fn client_config(ca_pem: &str, creds: &CertPair) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c?)?;
    }
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(creds.cert_pem.as_bytes()).collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(creds.key_pem.as_bytes())?;
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)?;
    Ok(Arc::new(cfg))
}

/// Where the agent of `node` listens: its InternalIP (else first address) and kubelet port.
fn node_endpoint(node: &Value) -> Option<(String, u16)> {
    let status = node.get("status")?;
    let addrs = status.get("addresses")?.as_array()?;
    let pick = |t: &str| {
        addrs
            .iter()
            .find(|a| a.get("type").and_then(Value::as_str) == Some(t))
            .and_then(|a| a.get("address")?.as_str())
    };
    let ip = pick("InternalIP").or_else(|| pick("Hostname"))?.to_string();
    let port = status
        .pointer("/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    Some((ip, port))
}

pub async fn forward(state: &SharedState, rr: &ResourceRequest, mut req: Request) -> Response {
    match forward_inner(state, rr, &mut req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn forward_inner(
    state: &SharedState,
    rr: &ResourceRequest,
    req: &mut Request,
) -> ApiResult<Response> {
    let name = rr.name.as_deref().unwrap_or_default();
    let (pod, _) = state
        .objects
        .must_get(rr.res, rr.namespace.as_deref(), name)
        .await?;
    let node_name = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!("pod {name} does not have a host assigned"))
        })?;
    let nodes = registry::core("nodes");
    let (node, _) = state.objects.must_get(nodes, None, node_name).await?;
    let (host, port) = node_endpoint(&node)
        .ok_or_else(|| ApiError::unavailable(format!("node {node_name} has no address")))?;
    let tls = state
        .kubelet_client
        .clone()
        .ok_or_else(|| ApiError::unavailable("no credentials for node agents"))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| {
            ApiError::unavailable(format!("dial node {node_name} at {host}:{port}: {e}"))
        })?;
    let _ = tcp.set_nodelay(true);
    let server_name = ServerName::try_from(host.clone())
        .map_err(|e| ApiError::internal(format!("node address {host}: {e}")))?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(server_name, tcp)
        .await
        .map_err(|e| ApiError::unavailable(format!("TLS to node {node_name}: {e}")))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ApiError::unavailable(format!("HTTP to node {node_name}: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });

    // The same request, minus what belongs to this hop.
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let mut upstream = hyper::Request::builder()
        .method(req.method().clone())
        .uri(path);
    for (k, v) in req.headers() {
        if k == header::AUTHORIZATION || k == header::HOST {
            continue;
        }
        upstream = upstream.header(k, v);
    }
    upstream = upstream.header(
        header::HOST,
        HeaderValue::from_str(&format!("{host}:{port}"))
            .map_err(|e| ApiError::internal(e.to_string()))?,
    );
    let upgrading = req.headers().contains_key(header::UPGRADE);
    let client_upgrade = upgrading.then(|| hyper::upgrade::on(&mut *req));
    let body = std::mem::replace(req.body_mut(), Body::empty());
    let upstream = upstream
        .body(body)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut resp = sender
        .send_request(upstream)
        .await
        .map_err(|e| ApiError::unavailable(format!("request to node {node_name}: {e}")))?;

    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let Some(client_upgrade) = client_upgrade else {
            return Err(ApiError::internal(
                "node switched protocols without an upgrade request",
            ));
        };
        let node_upgrade = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            let (Ok(client), Ok(node)) = (client_upgrade.await, node_upgrade.await) else {
                return;
            };
            let mut client = TokioIo::new(client);
            let mut node = TokioIo::new(node);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut node).await;
        });
        let mut out = Response::new(Body::empty());
        *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *out.headers_mut() = resp.headers().clone();
        return Ok(out);
    }
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(Body::new(body));
    *out.status_mut() = parts.status;
    *out.headers_mut() = parts.headers;
    Ok(out)
}
