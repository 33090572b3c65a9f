//! The parts of an image config (OCI `application/vnd.oci.image.config.v1+json` or
//! Docker's equivalent, same field names) the runtime needs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::error::{ImageError, Result};

/// What a container inherits from its image: stored with the image record and handed, as is,
/// to the runtime's container config (one struct for both, so nothing is copied field by field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=value` strings, as in the image.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub stop_signal: Option<String>,
    /// `80/tcp`, `53/udp`, ...
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub created: Option<String>,
}

/// A parsed image config: the subset plus the ordered uncompressed layer digests.
#[derive(Debug, Clone)]
pub struct ParsedConfig {
    pub subset: ImageConfig,
    /// diffIDs, bottom layer first.
    pub diff_ids: Vec<Digest>,
}

#[derive(Deserialize)]
struct RawImage {
    architecture: Option<String>,
    os: Option<String>,
    created: Option<String>,
    #[serde(default)]
    config: Option<RawConfig>,
    rootfs: Option<RawRootfs>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    env: Option<Vec<String>>,
    working_dir: Option<String>,
    user: Option<String>,
    stop_signal: Option<String>,
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    volumes: Option<BTreeMap<String, serde_json::Value>>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawRootfs {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    diff_ids: Vec<String>,
}

pub fn parse_config(bytes: &[u8]) -> Result<ParsedConfig> {
    let raw: RawImage = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::InvalidImage(format!("image config JSON: {e}")))?;
    let rootfs = raw
        .rootfs
        .ok_or_else(|| ImageError::InvalidImage("image config has no rootfs".into()))?;
    if rootfs.kind.as_deref().is_some_and(|k| k != "layers") {
        return Err(ImageError::InvalidImage(format!(
            "unsupported rootfs type {:?}",
            rootfs.kind
        )));
    }
    let diff_ids = rootfs
        .diff_ids
        .iter()
        .map(|d| Digest::parse(d))
        .collect::<Result<Vec<_>>>()?;
    let c = raw.config.unwrap_or_default();
    let non_empty = |s: Option<String>| s.filter(|v| !v.is_empty());
    let subset = ImageConfig {
        entrypoint: c.entrypoint.unwrap_or_default(),
        cmd: c.cmd.unwrap_or_default(),
        env: c.env.unwrap_or_default(),
        working_dir: non_empty(c.working_dir),
        user: non_empty(c.user),
        stop_signal: non_empty(c.stop_signal),
        exposed_ports: c.exposed_ports.unwrap_or_default().into_keys().collect(),
        volumes: c.volumes.unwrap_or_default().into_keys().collect(),
        labels: c.labels.unwrap_or_default(),
        architecture: raw.architecture,
        os: raw.os,
        created: raw.created,
    };
    Ok(ParsedConfig { subset, diff_ids })
}
