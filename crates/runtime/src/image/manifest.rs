//! OCI / Docker v2 manifests and indexes (manifest lists), and picking linux/amd64.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::digest::Digest;
use super::error::{ImageError, Result};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// What we ask registries for, most preferred first.
pub const ACCEPTED_MANIFEST_TYPES: &[&str] =
    &[OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// The annotation an OCI layout uses to name a manifest.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// containerd's full-name annotation (written by `ctr export` / nerdctl save).
pub const CONTAINERD_NAME_ANNOTATION: &str = "io.containerd.image.name";

const PLATFORM_OS: &str = "linux";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: Option<String>,
    pub digest: Digest,
    pub size: i64,
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Clone)]
pub enum Manifest {
    Image(ImageManifest),
    Index(ImageIndex),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<i64>,
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
}

/// Parses manifest bytes; `media_type` is the Content-Type / descriptor type if known.
pub fn parse_manifest(bytes: &[u8], media_type: Option<&str>) -> Result<Manifest> {
    let invalid = |e: String| ImageError::InvalidImage(format!("manifest: {e}"));
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    if probe.schema_version == Some(1) {
        return Err(invalid(
            "Docker schema 1 manifests are not supported".into(),
        ));
    }
    let kind = probe.media_type.as_deref().or(media_type);
    let is_index = match kind {
        Some(OCI_INDEX | DOCKER_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        _ => probe.manifests.is_some(),
    };
    if is_index {
        let index: ImageIndex =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        Ok(Manifest::Index(index))
    } else {
        let m: ImageManifest = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        Ok(Manifest::Image(m))
    }
}

/// Picks the linux/amd64 entry of an index (plain `amd64` preferred over variants).
/// An index whose single entry has no platform (common in OCI layouts) yields it.
pub fn select_platform(index: &ImageIndex) -> Result<&Descriptor> {
    let matching = |d: &&Descriptor| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.os == PLATFORM_OS && p.architecture == crate::platform::go_arch())
    };
    if let Some(d) = index.manifests.iter().filter(matching).min_by_key(|d| {
        d.platform
            .as_ref()
            .and_then(|p| p.variant.clone())
            .is_some()
    }) {
        return Ok(d);
    }
    let without_platform: Vec<_> = index
        .manifests
        .iter()
        .filter(|d| d.platform.is_none())
        .collect();
    if let [only] = without_platform.as_slice() {
        return Ok(only);
    }
    let available: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .map(|p| format!("{}/{}", p.os, p.architecture))
        .collect();
    Err(ImageError::InvalidImage(format!(
        "no {PLATFORM_OS}/{} image in manifest list (has: {})",
        crate::platform::go_arch(),
        available.join(", ")
    )))
}
