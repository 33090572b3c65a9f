//! One HTTP(S) GET as kubelet makes it: only the status line is read and HTTPS skips
//! certificate verification. A probe succeeds on 2xx/3xx (redirects are not followed); a
//! hook succeeds on any answer, as kubelet's lifecycle handler only fails on errors.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::handlers::io_text;

/// Result of one probe or hook action.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    /// Failed, with the text kubelet puts into its event.
    Failure(String),
}

pub struct Request<'a> {
    pub host: &'a str,
    pub port: u16,
    pub https: bool,
    pub path: &'a str,
    /// `httpHeaders`, which may override Host, User-Agent and Accept.
    pub headers: &'a [(String, String)],
    pub check: Check,
}

/// What counts as success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A probe: status 200–399.
    Probe,
    /// A lifecycle hook: any HTTP answer.
    Hook,
}

impl Request<'_> {
    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}{}", self.host, self.port, self.path())
    }

    fn path(&self) -> String {
        if self.path.starts_with('/') {
            self.path.to_string()
        } else {
            format!("/{}", self.path)
        }
    }

    fn head(&self) -> Result<String, String> {
        let mut req = format!("GET {} HTTP/1.1\r\n", self.path());
        let (mut has_host, mut has_agent, mut has_accept) = (false, false, false);
        for (name, value) in self.headers {
            if name.contains(['\r', '\n']) || value.contains(['\r', '\n']) {
                return Err(format!("invalid header {name:?}"));
            }
            let lower = name.to_ascii_lowercase();
            has_host |= lower == "host";
            has_agent |= lower == "user-agent";
            has_accept |= lower == "accept";
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        if !has_host {
            req.push_str(&format!("Host: {}:{}\r\n", self.host, self.port));
        }
        if !has_agent {
            req.push_str("User-Agent: kube-probe/1.33\r\n");
        }
        if !has_accept {
            req.push_str("Accept: */*\r\n");
        }
        req.push_str("Connection: close\r\n\r\n");
        Ok(req)
    }
}

fn tls() -> Result<TlsConnector, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            crate::unverified_tls::client_config()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map(TlsConnector::from)
}

/// Sends the request and returns the first bytes of the answer (at least its status line).
async fn status_line<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    head: &str,
) -> std::io::Result<Vec<u8>> {
    s.write_all(head.as_bytes()).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 8192 {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf)
}

pub async fn get(req: &Request<'_>, timeout: Duration) -> Outcome {
    let head = match req.head() {
        Ok(h) => h,
        Err(e) => return Outcome::Failure(e),
    };
    let url = req.url();
    let (host, port) = (req.host, req.port);
    let attempt = async {
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("dial tcp {host}:{port}: connect: {}", io_text(&e)))?;
        if !req.https {
            return status_line(tcp, &head).await.map_err(|e| e.to_string());
        }
        let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let tls = tls()?
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {host}:{port}: {e}"))?;
        status_line(tls, &head).await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(timeout, attempt).await {
        Err(_) => Outcome::Failure(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Ok(Err(e)) => Outcome::Failure(format!("Get {url:?}: {e}")),
        Ok(Ok(buf)) => {
            let line = String::from_utf8_lossy(&buf);
            let code = line
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse::<u16>().ok());
            match code {
                Some(_) if req.check == Check::Hook => Outcome::Success,
                Some(c) if (200..400).contains(&c) => Outcome::Success,
                Some(c) => Outcome::Failure(format!("HTTP probe failed with statuscode: {c}")),
                None => Outcome::Failure(format!("Get {url:?}: malformed HTTP response")),
            }
        }
    }
}

#[cfg(test)]
#[path = "http_probe_tests.rs"]
mod tests;
