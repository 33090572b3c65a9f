//! Image records and the on-disk index that holds them (`images/index.json`).
//! The index is only rewritten under the store lock and replaced atomically, so
//! readers need no lock.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::ImageConfig;
use super::digest::Digest;
use super::error::{ImageError, IoContext, Result};

/// An image in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRecord {
    /// The config digest (`sha256:...`), as Docker and containerd use for image IDs.
    pub id: Digest,
    /// Normalised `registry/repository:tag` names.
    pub repo_tags: Vec<String>,
    /// Normalised `registry/repository@sha256:...` names (manifest or manifest list digest).
    pub repo_digests: Vec<String>,
    /// Unpacked size in bytes (sum of the layers' regular files).
    pub size: u64,
    /// Layer diffIDs, bottom layer first.
    pub layers: Vec<Digest>,
    /// Digest of the image manifest, when the image came with one (OCI or registry).
    pub manifest_digest: Option<Digest>,
    pub config: ImageConfig,
    /// When this store first recorded the image (RFC 3339).
    pub imported_at: String,
}

impl ImageRecord {
    /// All names: tags then digests.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.repo_tags.iter().chain(self.repo_digests.iter())
    }
}

/// Bookkeeping for archives imported from a directory (k3s `images/*.tar`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedArchive {
    pub size: u64,
    pub mtime_ns: i128,
    pub image_ids: Vec<Digest>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub images: Vec<ImageRecord>,
    #[serde(default)]
    pub imported_archives: BTreeMap<String, ImportedArchive>,
}

impl Index {
    pub fn load(path: &Path) -> Result<Index> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ImageError::InvalidImage(format!("store index {} is corrupt: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(e).ctx(|| format!("read {}", path.display())),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data into memory cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Adds or updates `new`: names move from other images to it (a tag points at
    /// one image); images left without any name that were not explicitly
    /// untagged imports are dropped, as containerd does.
    pub fn upsert(&mut self, new: ImageRecord) -> ImageRecord {
        let mut orphaned = Vec::new();
        for other in self.images.iter_mut().filter(|r| r.id != new.id) {
            let had_names = other.names().next().is_some();
            other.repo_tags.retain(|t| !new.repo_tags.contains(t));
            other.repo_digests.retain(|d| !new.repo_digests.contains(d));
            if had_names && other.names().next().is_none() {
                orphaned.push(other.id.clone());
            }
        }
        self.images.retain(|r| !orphaned.contains(&r.id));
        let merged = match self.images.iter_mut().find(|r| r.id == new.id) {
            Some(existing) => {
                for t in &new.repo_tags {
                    if !existing.repo_tags.contains(t) {
                        existing.repo_tags.push(t.clone());
                    }
                }
                for d in &new.repo_digests {
                    if !existing.repo_digests.contains(d) {
                        existing.repo_digests.push(d.clone());
                    }
                }
                if existing.manifest_digest.is_none() {
                    existing.manifest_digest = new.manifest_digest.clone();
                }
                existing.clone()
            }
            None => {
                self.images.push(new.clone());
                new
            }
        };
        self.images
            .sort_by(|a, b| (a.repo_tags.first(), &a.id).cmp(&(b.repo_tags.first(), &b.id)));
        merged
    }
}
