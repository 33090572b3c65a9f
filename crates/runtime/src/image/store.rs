//! The content-addressed image store under `DATA_DIR/images/`:
//!
//! ```text
//! lock                     flock serialising index changes and garbage collection
//! index.json               image records (replaced atomically; readers take no lock)
//! blobs/sha256/<hex>       image configs and manifests
//! layers/<diffID hex>/fs   an unpacked layer: an overlayfs lower dir, shared by images
//! layers/<diffID hex>/size
//! locks/<hex>.lock         per-layer flock so concurrent imports unpack a layer once
//! leases/<holder>.json     layers in use (containers, in-flight imports): never collected
//! tmp/                     staging; everything is published by rename(2)
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::ParsedConfig;
use super::digest::Digest;
use super::error::{ImageError, IoContext, Result};
use super::fsutil::{self, FileLock, StagingDir};
use super::record::{ImageRecord, Index};
use super::reference::normalize_reference;
use super::unpack::UnpackedLayer;

const OP_LEASE_PREFIX: &str = "op-";

/// Handle on the image store of one data directory. Cheap; every method re-reads
/// the on-disk state, so several processes can use the same store at once.
#[derive(Debug, Clone)]
pub struct ImageStore {
    data_dir: PathBuf,
    root: PathBuf,
}

/// `peapod image inspect`: the record plus the image's full config JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInspect {
    #[serde(flatten)]
    pub record: ImageRecord,
    /// The image config blob as stored (OCI/Docker image config JSON).
    pub image_config: serde_json::Value,
    /// Unpacked layer directories, topmost first.
    pub layer_dirs: Vec<PathBuf>,
}

impl ImageInspect {
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// What `remove` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Names removed (tags and digests).
    pub untagged: Vec<String>,
    /// Set when the image itself was deleted (not only untagged).
    pub deleted: Option<Digest>,
}

/// An image ready to be recorded: its layers are already unpacked.
pub(crate) struct PendingImage {
    pub config_bytes: Vec<u8>,
    pub config: ParsedConfig,
    pub manifest: Option<(Digest, Vec<u8>)>,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Lease {
    layers: Vec<Digest>,
}

/// Keeps an in-flight import's layers from being collected; removed on drop.
pub(crate) struct OpLease {
    path: PathBuf,
}

impl Drop for OpLease {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

enum Match {
    Id,
    Tag(String),
    Digest,
}

impl ImageStore {
    /// Opens (creating if needed) the store of `data_dir`, e.g. `/var/lib/peapod`.
    pub fn open(data_dir: &Path) -> Result<ImageStore> {
        let root = data_dir.join("images");
        let store = ImageStore {
            data_dir: data_dir.to_path_buf(),
            root,
        };
        for dir in [
            store.root.clone(),
            store.blobs_dir(),
            store.layers_dir(),
            store.locks_dir(),
            store.leases_dir(),
            store.tmp_dir(),
        ] {
            fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        }
        store.remove_stale_tmp();
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `DATA_DIR/images`
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }
    fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }
    fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }
    fn leases_dir(&self) -> PathBuf {
        self.root.join("leases")
    }
    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }
    fn lock(&self) -> Result<FileLock> {
        FileLock::exclusive(&self.root.join("lock"))
    }
    fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.layers_dir().join(diff_id.hex())
    }

    pub(crate) fn load_index(&self) -> Result<Index> {
        Index::load(&self.index_path())
    }

    pub(crate) fn save_index(&self, index: &Index) -> Result<()> {
        fsutil::write_atomic(&self.tmp_dir(), &self.index_path(), &index.to_bytes())
    }

    /// Runs `f` on the index under the store lock and saves it if `f` succeeds.
    pub(crate) fn update_index<T>(&self, f: impl FnOnce(&mut Index) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let mut index = self.load_index()?;
        let out = f(&mut index)?;
        self.save_index(&index)?;
        self.collect_garbage(&index);
        Ok(out)
    }

    /// All images, sorted by first tag.
    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.load_index()?.images)
    }

    /// Finds an image by reference (`busybox`, `reg:5000/a/b:v1`, `name@sha256:..`),
    /// by full ID (`sha256:...`) or by a unique ID prefix (at least 4 hex digits).
    pub fn resolve(&self, reference_or_id: &str) -> Result<Option<ImageRecord>> {
        let index = self.load_index()?;
        Ok(find(&index, reference_or_id)?.map(|(i, _)| index.images[i].clone()))
    }

    /// Like `resolve`, but a missing image is an error.
    pub fn get(&self, reference_or_id: &str) -> Result<ImageRecord> {
        self.resolve(reference_or_id)?
            .ok_or_else(|| ImageError::NotFound(reference_or_id.to_string()))
    }

    pub fn inspect(&self, reference_or_id: &str) -> Result<ImageInspect> {
        let record = self.get(reference_or_id)?;
        let path = self.blobs_dir().join(record.id.hex());
        let bytes = fs::read(&path).ctx(|| format!("read {}", path.display()))?;
        let image_config = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::InvalidImage(format!("stored config {}: {e}", record.id)))?;
        let layer_dirs = self.layer_dirs(&record)?;
        Ok(ImageInspect {
            record,
            image_config,
            layer_dirs,
        })
    }

    /// Removes a name, or the whole image when given its ID, a digest reference or
    /// its last tag. Layers still leased (used by containers) stay on disk until released.
    pub fn remove(&self, reference_or_id: &str) -> Result<Removed> {
        self.update_index(|index| {
            let (i, how) = find(index, reference_or_id)?
                .ok_or_else(|| ImageError::NotFound(reference_or_id.to_string()))?;
            let record = &mut index.images[i];
            if let Match::Tag(tag) = how {
                if record.repo_tags.len() > 1 {
                    // Docker semantics: removing one of several tags only untags.
                    record.repo_tags.retain(|t| *t != tag);
                    return Ok(Removed {
                        untagged: vec![tag],
                        deleted: None,
                    });
                }
            }
            let record = index.images.remove(i);
            Ok(Removed {
                untagged: record.names().cloned().collect(),
                deleted: Some(record.id),
            })
        })
    }

    /// The image's unpacked layer directories, topmost first (overlayfs `lowerdir` order).
    pub fn layer_dirs(&self, image: &ImageRecord) -> Result<Vec<PathBuf>> {
        image
            .layers
            .iter()
            .rev()
            .map(|d| {
                let dir = self.layer_dir(d).join("fs");
                if dir.is_dir() {
                    Ok(dir)
                } else {
                    Err(ImageError::InvalidImage(format!(
                        "layer {d} of image {} is missing from the store",
                        image.id
                    )))
                }
            })
            .collect()
    }

    /// Records that `holder` (e.g. a container ID) uses the image's layers: they are
    /// not deleted, even if the image is removed, until `release(holder)`.
    pub fn lease(&self, holder: &str, image: &ImageRecord) -> Result<()> {
        validate_holder(holder)?;
        let _lock = self.lock()?;
        self.layer_dirs(image)?;
        let lease = Lease {
            layers: image.layers.clone(),
        };
        let bytes = serde_json::to_vec(&lease).unwrap_or_default();
        // Taken on every container start. No fsync: after a power loss no container runs,
        // and each is leased again when it is started again.
        fsutil::write_atomic_volatile(&self.tmp_dir(), &self.lease_path(holder), &bytes)
    }

    /// Drops `holder`'s lease and deletes layers nothing references any more.
    pub fn release(&self, holder: &str) -> Result<()> {
        validate_holder(holder)?;
        let _lock = self.lock()?;
        match fs::remove_file(self.lease_path(holder)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).ctx(|| format!("remove lease {holder}")),
        }
        let index = self.load_index()?;
        self.collect_garbage(&index);
        Ok(())
    }

    fn lease_path(&self, holder: &str) -> PathBuf {
        self.leases_dir().join(format!("{holder}.json"))
    }

    /// Leases `layers` for an import in progress, so a concurrent `remove` cannot
    /// collect a layer between its unpacking and the commit of the record.
    pub(crate) fn begin_operation(&self, layers: &[Digest]) -> Result<OpLease> {
        let _lock = self.lock()?;
        let name = fsutil::unique_tmp_path(Path::new(""), "op")
            .display()
            .to_string();
        let path = self.leases_dir().join(format!("{name}.json"));
        let bytes = serde_json::to_vec(&Lease {
            layers: layers.to_vec(),
        })
        .unwrap_or_default();
        fsutil::write_atomic(&self.tmp_dir(), &path, &bytes)?;
        Ok(OpLease { path })
    }

    pub(crate) fn has_layer(&self, diff_id: &Digest) -> bool {
        self.layer_dir(diff_id).join("fs").is_dir()
    }

    fn layer_size(&self, diff_id: &Digest) -> u64 {
        fs::read_to_string(self.layer_dir(diff_id).join("size"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Makes sure layer `diff_id` is unpacked, calling `unpack(dir)` to fill an empty
    /// staging dir if not. The result's diffID is verified before publication.
    /// Returns whether this call unpacked it.
    pub(crate) fn ensure_layer(
        &self,
        diff_id: &Digest,
        unpack: impl FnOnce(&Path) -> Result<UnpackedLayer>,
    ) -> Result<bool> {
        if self.has_layer(diff_id) {
            return Ok(false);
        }
        let _lock = FileLock::exclusive(&self.locks_dir().join(format!("{}.lock", diff_id.hex())))?;
        if self.has_layer(diff_id) {
            return Ok(false); // another process unpacked it while we waited
        }
        let staging = StagingDir::new(&self.tmp_dir(), "layer")?;
        let fs_dir = staging.path().join("fs");
        fs::create_dir(&fs_dir).ctx(|| format!("create {}", fs_dir.display()))?;
        let unpacked = unpack(&fs_dir)?;
        diff_id.verify(
            &unpacked.diff_id,
            &format!("layer {diff_id} (uncompressed)"),
        )?;
        let size_path = staging.path().join("size");
        fs::write(&size_path, unpacked.size.to_string())
            .ctx(|| format!("write {}", size_path.display()))?;
        staging.persist(&self.layer_dir(diff_id))
    }

    /// Records an image whose layers are unpacked; moves its tags from older images.
    pub(crate) fn commit(&self, pending: PendingImage) -> Result<ImageRecord> {
        let id = Digest::of_bytes(&pending.config_bytes);
        self.update_index(|index| {
            for layer in &pending.config.diff_ids {
                if !self.has_layer(layer) {
                    return Err(ImageError::InvalidImage(format!(
                        "layer {layer} disappeared before the image was recorded"
                    )));
                }
            }
            self.write_blob(&id, &pending.config_bytes)?;
            if let Some((digest, bytes)) = &pending.manifest {
                self.write_blob(digest, bytes)?;
            }
            let record = ImageRecord {
                id: id.clone(),
                repo_tags: pending.repo_tags.clone(),
                repo_digests: pending.repo_digests.clone(),
                size: pending
                    .config
                    .diff_ids
                    .iter()
                    .map(|d| self.layer_size(d))
                    .sum(),
                layers: pending.config.diff_ids.clone(),
                manifest_digest: pending.manifest.as_ref().map(|(d, _)| d.clone()),
                config: pending.config.subset.clone(),
                imported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            Ok(index.upsert(record))
        })
    }

    fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<()> {
        let path = self.blobs_dir().join(digest.hex());
        if path.exists() {
            return Ok(());
        }
        fsutil::write_atomic(&self.tmp_dir(), &path, bytes)
    }

    /// Deletes layers and blobs that no image and no live lease references.
    /// Caller holds the store lock. Failures are logged: GC is retried on the next change.
    fn collect_garbage(&self, index: &Index) {
        let mut live_layers: BTreeSet<String> = index
            .images
            .iter()
            .flat_map(|r| r.layers.iter().map(|d| d.hex().to_string()))
            .collect();
        live_layers.extend(self.leased_layers());
        let live_blobs: BTreeSet<String> = index
            .images
            .iter()
            .flat_map(|r| std::iter::once(&r.id).chain(r.manifest_digest.as_ref()))
            .map(|d| d.hex().to_string())
            .collect();

        for (dir, live) in [
            (self.layers_dir(), &live_layers),
            (self.blobs_dir(), &live_blobs),
        ] {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if live.contains(&name) {
                    continue;
                }
                // Move out of sight first so readers never see a half-deleted layer.
                let trash = fsutil::unique_tmp_path(&self.tmp_dir(), "gc");
                if fs::rename(entry.path(), &trash).is_ok() {
                    if trash.is_dir() {
                        fsutil::remove_tree(&trash);
                    } else {
                        let _ = fs::remove_file(&trash);
                    }
                }
                let _ = fs::remove_file(self.locks_dir().join(format!("{name}.lock")));
            }
        }
    }

    /// Layers held by leases; drops leases of import operations whose process died.
    fn leased_layers(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(self.leases_dir()) else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(OP_LEASE_PREFIX).and_then(pid_of_tmp_name) {
                if !process_alive(pid) {
                    let _ = fs::remove_file(entry.path());
                    continue;
                }
            }
            let lease: Option<Lease> = fs::read(entry.path())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            match lease {
                Some(l) => out.extend(l.layers.iter().map(|d| d.hex().to_string())),
                None => tracing::warn!("unreadable image lease {}", entry.path().display()),
            }
        }
        out
    }

    /// Removes staging leftovers of processes that died mid-operation.
    fn remove_stale_tmp(&self) {
        let Ok(entries) = fs::read_dir(self.tmp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = name
                .split_once('-')
                .and_then(|(_, rest)| pid_of_tmp_name(rest))
                .is_some_and(|pid| !process_alive(pid));
            if stale {
                let path = entry.path();
                if path.is_dir() {
                    fsutil::remove_tree(&path);
                } else {
                    let _ = fs::remove_file(&path);
                }
            }
        }
    }
}

/// `<pid>-<n>-<nanos>[.json]` → pid (see `fsutil::unique_tmp_path`).
fn pid_of_tmp_name(rest: &str) -> Option<i32> {
    rest.split('-').next()?.parse().ok()
}

fn process_alive(pid: i32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

fn validate_holder(holder: &str) -> Result<()> {
    let ok = !holder.is_empty()
        && holder.len() <= 200
        && !holder.starts_with('.')
        && !holder.starts_with(OP_LEASE_PREFIX)
        && holder
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ImageError::InvalidImage(format!(
            "invalid lease holder name {holder:?}"
        )))
    }
}

/// Resolution order: full ID, reference (tag or digest), unique ID prefix.
fn find(index: &Index, reference_or_id: &str) -> Result<Option<(usize, Match)>> {
    if reference_or_id.starts_with("sha256:") && !reference_or_id.contains('/') {
        if let Ok(id) = Digest::parse(reference_or_id) {
            return Ok(index
                .images
                .iter()
                .position(|r| r.id == id)
                .map(|i| (i, Match::Id)));
        }
    }
    let normalized = normalize_reference(reference_or_id);
    if let Ok(r) = &normalized {
        let hit = match (r.digested(), r.tagged()) {
            (Some(d), _) => index
                .images
                .iter()
                .position(|img| {
                    img.repo_digests.contains(&d) || (r.digest.as_ref() == Some(&img.id))
                })
                .map(|i| (i, Match::Digest)),
            (None, Some(t)) => index
                .images
                .iter()
                .position(|img| img.repo_tags.contains(&t))
                .map(|i| (i, Match::Tag(t))),
            (None, None) => None,
        };
        if hit.is_some() {
            return Ok(hit);
        }
    }
    let prefix = reference_or_id
        .strip_prefix("sha256:")
        .unwrap_or(reference_or_id);
    if prefix.len() >= 4
        && prefix
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        let hits: Vec<usize> = index
            .images
            .iter()
            .enumerate()
            .filter(|(_, r)| r.id.hex().starts_with(prefix))
            .map(|(i, _)| i)
            .collect();
        return match hits.as_slice() {
            [] => Ok(None),
            [i] => Ok(Some((*i, Match::Id))),
            _ => Err(ImageError::InvalidReference {
                reference: reference_or_id.to_string(),
                reason: "ambiguous image ID prefix".into(),
            }),
        };
    }
    normalized.map(|_| None)
}
