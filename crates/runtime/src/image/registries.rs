//! `DATA_DIR/registries.yaml`, k3s style: mirrors per registry (`*` for any) and
//! per-host configs (credentials, TLS). Plain http is used for endpoints written
//! `http://...` and, as Docker does, for loopback registries without a TLS config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::error::{ImageError, IoContext, Result};

pub const REGISTRIES_FILE: &str = "registries.yaml";

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistriesConfig {
    #[serde(default)]
    pub mirrors: BTreeMap<String, Mirror>,
    #[serde(default)]
    pub configs: BTreeMap<String, HostConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Mirror {
    #[serde(default)]
    pub endpoint: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostConfig {
    pub auth: Option<AuthConfig>,
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthConfig {
    pub username: Option<String>,
    pub password: Option<String>,
    /// base64 of `username:password` (Docker config style).
    pub auth: Option<String>,
    pub identity_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TlsConfig {
    #[serde(default)]
    pub insecure_skip_verify: bool,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// One place to try to pull from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]` as used in URLs.
    pub host: String,
    pub plain_http: bool,
    pub insecure_skip_verify: bool,
    pub ca_file: Option<PathBuf>,
    pub credentials: Credentials,
}

#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credentials {
    #[default]
    Anonymous,
    Basic(String, String),
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => write!(f, "Anonymous"),
            Credentials::Basic(user, _) => write!(f, "Basic({user}, ***)"),
            Credentials::Bearer(_) => write!(f, "Bearer(***)"),
        }
    }
}

impl RegistriesConfig {
    /// Loads `data_dir/registries.yaml`; a missing file means no configuration.
    pub fn load(data_dir: &Path) -> Result<RegistriesConfig> {
        let path = data_dir.join(REGISTRIES_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).ctx(|| format!("read {}", path.display())),
        };
        Self::parse(&text).map_err(|reason| ImageError::RegistriesConfig {
            path: path.display().to_string(),
            reason,
        })
    }

    pub fn parse(text: &str) -> std::result::Result<RegistriesConfig, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// Endpoints to try for `registry`, in order: its mirrors (or the `*` mirrors),
    /// then the registry itself, as k3s does.
    pub fn endpoints(&self, registry: &str) -> Result<Vec<Endpoint>> {
        let mirrors = self
            .mirrors
            .get(registry)
            .or_else(|| self.mirrors.get("*"))
            .map(|m| m.endpoint.as_slice())
            .unwrap_or_default();
        let mut out = Vec::new();
        for url in mirrors {
            let (host, scheme) = parse_endpoint(url)?;
            out.push(self.endpoint(&host, scheme))
        }
        let upstream = self.endpoint(registry, None);
        if !out.iter().any(|e| e.host == upstream.host) {
            out.push(upstream);
        }
        Ok(out)
    }

    fn endpoint(&self, host: &str, scheme: Option<&'static str>) -> Endpoint {
        let config = self.configs.get(host).cloned().unwrap_or_default();
        let tls = config.tls.clone();
        let plain_http = match scheme {
            Some(s) => s == "http",
            None => tls.is_none() && is_loopback(host),
        };
        Endpoint {
            host: host.to_string(),
            plain_http,
            insecure_skip_verify: tls.as_ref().is_some_and(|t| t.insecure_skip_verify),
            ca_file: tls.and_then(|t| t.ca_file),
            credentials: credentials(config.auth.as_ref()),
        }
    }
}

fn credentials(auth: Option<&AuthConfig>) -> Credentials {
    let Some(auth) = auth else {
        return Credentials::Anonymous;
    };
    if let (Some(u), Some(p)) = (&auth.username, &auth.password) {
        return Credentials::Basic(u.clone(), p.clone());
    }
    if let Some(encoded) = &auth.auth {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Credentials::Basic(u.to_string(), p.to_string());
        }
        tracing::warn!("registries.yaml: ignoring auth that is not base64 of user:password");
    }
    if let Some(token) = &auth.identity_token {
        return Credentials::Bearer(token.clone());
    }
    Credentials::Anonymous
}

/// `https://host:port[/path]`, `http://host`, or a bare `host:port` (https).
fn parse_endpoint(url: &str) -> Result<(String, Option<&'static str>)> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("http://") {
        (Some("http"), r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (Some("https"), r)
    } else if url.contains("://") {
        return Err(ImageError::Registry(format!(
            "mirror endpoint {url:?}: only http and https are supported"
        )));
    } else {
        (None, url)
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(ImageError::Registry(format!(
            "mirror endpoint {url:?} has no host"
        )));
    }
    if rest.trim_end_matches('/').contains('/') && !rest.trim_end_matches('/').ends_with("/v2") {
        tracing::warn!("mirror endpoint {url:?}: path prefixes are not supported; using {host}");
    }
    Ok((host.to_string(), scheme.or(Some("https"))))
}

/// `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let bare = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
