//! Running probe and lifecycle-hook actions: exec, httpGet, tcpSocket, grpc, sleep.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, ExecAction, HTTPGetAction, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use peapod_runtime::{Runtime, TimeoutError};
use tokio::net::TcpStream;

use crate::{grpc_health, http_probe};

pub use crate::http_probe::Check as HttpCheck;

pub use crate::http_probe::Outcome;

/// Where and in which container an action runs.
pub struct Target<'a> {
    pub runtime: &'a Arc<Runtime>,
    pub container_id: &'a str,
    pub container: &'a Container,
    /// Pod IP (the node's for hostNetwork pods).
    pub pod_ip: &'a str,
}

pub async fn exec(t: &Target<'_>, action: &ExecAction, timeout: Duration) -> Outcome {
    let cmd: Vec<String> = action.command.clone().unwrap_or_default();
    if cmd.is_empty() {
        return Outcome::Failure("exec action has no command".into());
    }
    let rt = t.runtime.clone();
    let id = t.container_id.to_string();
    let res = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        rt.exec_sync(&id, &args, b"", timeout)
    })
    .await;
    match res {
        Ok(Ok(out)) => {
            if out.exit_code == 0 {
                Outcome::Success
            } else {
                let mut text = String::from_utf8_lossy(&out.stdout).to_string();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                Outcome::Failure(text.trim_end().to_string())
            }
        }
        Ok(Err(e)) if e.downcast_ref::<TimeoutError>().is_some() => {
            Outcome::Failure(format!("command timed out after {timeout:?}"))
        }
        Ok(Err(e)) => Outcome::Failure(format!("{e:#}")),
        Err(e) => Outcome::Failure(e.to_string()),
    }
}

/// Resolves a numeric or named container port.
pub fn resolve_port(port: &IntOrString, c: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("invalid port {n}")),
        IntOrString::String(s) => {
            if let Ok(n) = s.parse::<u16>() {
                return Ok(n);
            }
            c.ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(s.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
                .ok_or_else(|| format!("couldn't find port {s} in container"))
        }
    }
}

pub async fn tcp(t: &Target<'_>, action: &TCPSocketAction, timeout: Duration) -> Outcome {
    let port = match resolve_port(&action.port, t.container) {
        Ok(p) => p,
        Err(e) => return Outcome::Failure(e),
    };
    let host = action
        .host
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| t.pod_ip.to_string());
    let addr = format!("{host}:{port}");
    match tokio::time::timeout(timeout, TcpStream::connect(&addr)).await {
        Ok(Ok(_)) => Outcome::Success,
        Ok(Err(e)) => Outcome::Failure(format!("dial tcp {addr}: connect: {}", io_text(&e))),
        Err(_) => Outcome::Failure(format!("dial tcp {addr}: i/o timeout")),
    }
}

pub(crate) fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => e.to_string(),
    }
}

/// `httpGet` on the pod's IP (or `host`), over HTTP or HTTPS.
pub async fn http_get(
    t: &Target<'_>,
    action: &HTTPGetAction,
    timeout: Duration,
    check: http_probe::Check,
) -> Outcome {
    let port = match resolve_port(&action.port, t.container) {
        Ok(p) => p,
        Err(e) => return Outcome::Failure(e),
    };
    let host = action
        .host
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| t.pod_ip.to_string());
    let https = match action.scheme.as_deref().unwrap_or("HTTP") {
        s if s.eq_ignore_ascii_case("HTTP") => false,
        s if s.eq_ignore_ascii_case("HTTPS") => true,
        s => return Outcome::Failure(format!("unsupported scheme {s:?}")),
    };
    let headers: Vec<(String, String)> = action
        .http_headers
        .iter()
        .flatten()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect();
    let req = http_probe::Request {
        host: &host,
        port,
        https,
        path: action.path.as_deref().unwrap_or("/"),
        headers: &headers,
        check,
    };
    http_probe::get(&req, timeout).await
}

pub async fn grpc(t: &Target<'_>, port: i32, service: Option<&str>, timeout: Duration) -> Outcome {
    let Ok(port) = u16::try_from(port) else {
        return Outcome::Failure(format!("invalid port {port}"));
    };
    let addr = format!("{}:{port}", t.pod_ip);
    match tokio::time::timeout(timeout, grpc_health::check(&addr, service.unwrap_or(""))).await {
        Err(_) => Outcome::Failure(format!(
            "timeout: failed to connect service {addr:?} within {timeout:?}"
        )),
        Ok(Err(e)) => Outcome::Failure(e),
        Ok(Ok(1)) => Outcome::Success,
        Ok(Ok(status)) => Outcome::Failure(format!(
            "service unhealthy (responded with {:?})",
            grpc_health::status_name(status)
        )),
    }
}
