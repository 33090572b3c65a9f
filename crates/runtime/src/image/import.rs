//! `import`: docker-archive tarballs (`docker save`), oci-archive tarballs and OCI
//! layout directories; `import_dir`: the k3s convention of `DIR/images/*.tar`.

use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use super::config::parse_config;
use super::digest::{Digest, HashingReader};
use super::error::{ImageError, IoContext, Result};
use super::fsutil;
use super::manifest::{
    parse_manifest, select_platform, Descriptor, ImageIndex, Manifest, CONTAINERD_NAME_ANNOTATION,
    REF_NAME_ANNOTATION,
};
use super::record::{ImageRecord, ImportedArchive};
use super::reference::normalize_reference;
use super::source::Source;
use super::store::{ImageStore, OpLease, PendingImage};
use super::unpack::unpack_layer;

const MAX_INDEX_DEPTH: usize = 4;

/// Outcome of `import_dir`: one bad archive does not stop the others.
#[derive(Debug, Default)]
pub struct ImportDirReport {
    pub imported: Vec<(PathBuf, Vec<ImageRecord>)>,
    /// Archives unchanged since an earlier import whose images are all still present.
    pub skipped: Vec<PathBuf>,
    pub failed: Vec<(PathBuf, ImageError)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveEntry {
    config: String,
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A layer to unpack: where its blob is and, when the format says, its digest.
struct LayerBlob {
    path: String,
    compressed_digest: Option<Digest>,
}

/// A temporary file removed on drop (decompressed archives).
struct TempFile(PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl ImageStore {
    /// Imports every image of a docker-archive or oci-archive tarball (optionally
    /// gzip-compressed) or an OCI layout directory. All digests are verified; on
    /// any error nothing of the failing image is recorded.
    pub fn import(&self, path: &Path) -> Result<Vec<ImageRecord>> {
        let meta = fs::metadata(path).ctx(|| format!("stat {}", path.display()))?;
        let mut _decompressed = None;
        let source = if meta.is_dir() {
            Source::Dir(path.to_path_buf())
        } else if is_gzip(path)? {
            let tmp = TempFile(fsutil::unique_tmp_path(&self.tmp_dir(), "archive"));
            let mut input = MultiGzDecoder::new(BufReader::new(
                File::open(path).ctx(|| format!("open {}", path.display()))?,
            ));
            let mut out = File::create(&tmp.0).ctx(|| format!("create {}", tmp.0.display()))?;
            std::io::copy(&mut input, &mut out)
                .map_err(|e| ImageError::archive(path, format!("gunzip: {e}")))?;
            let source = Source::tar(&tmp.0)?;
            _decompressed = Some(tmp);
            source
        } else {
            Source::tar(path)?
        };
        if source.exists("manifest.json") {
            self.import_docker_archive(&source)
        } else if source.exists("index.json") {
            self.import_oci_layout(&source, path)
        } else {
            Err(ImageError::archive(
                path,
                "neither a docker archive (manifest.json) nor an OCI layout (index.json)",
            ))
        }
    }

    /// Imports the archives `dir/*.tar`, `*.tar.gz`, `*.tgz` (k3s: images placed in the
    /// data dir's `images/` are loaded at node start). Archives already imported, unchanged
    /// and whose images still exist are skipped.
    pub fn import_dir(&self, dir: &Path) -> Result<ImportDirReport> {
        let mut report = ImportDirReport::default();
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
            Err(e) => return Err(e).ctx(|| format!("read {}", dir.display())),
        };
        let mut archives: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                p.is_file()
                    && (name.ends_with(".tar")
                        || name.ends_with(".tar.gz")
                        || name.ends_with(".tgz"))
            })
            .collect();
        archives.sort();
        for archive in archives {
            let meta = fs::metadata(&archive).ctx(|| format!("stat {}", archive.display()))?;
            let key = archive.display().to_string();
            let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            let index = self.load_index()?;
            let unchanged = index.imported_archives.get(&key).is_some_and(|prev| {
                prev.size == meta.len()
                    && prev.mtime_ns == mtime_ns
                    && prev
                        .image_ids
                        .iter()
                        .all(|id| index.images.iter().any(|r| &r.id == id))
            });
            if unchanged {
                report.skipped.push(archive);
                continue;
            }
            match self.import(&archive) {
                Ok(records) => {
                    let mark = ImportedArchive {
                        size: meta.len(),
                        mtime_ns,
                        image_ids: records.iter().map(|r| r.id.clone()).collect(),
                    };
                    self.update_index(|index| {
                        index.imported_archives.insert(key, mark);
                        Ok(())
                    })?;
                    report.imported.push((archive, records));
                }
                Err(e) => {
                    tracing::warn!("importing {}: {e}", archive.display());
                    report.failed.push((archive, e));
                }
            }
        }
        Ok(report)
    }

    fn import_docker_archive(&self, source: &Source) -> Result<Vec<ImageRecord>> {
        let where_ = source.describe();
        let manifest: Vec<DockerArchiveEntry> =
            serde_json::from_slice(&source.read_small("manifest.json")?)
                .map_err(|e| ImageError::archive(&where_, format!("manifest.json: {e}")))?;
        if manifest.is_empty() {
            return Err(ImageError::archive(&where_, "manifest.json lists no image"));
        }
        let mut out = Vec::new();
        for entry in manifest {
            let config_bytes = source.read_small(&entry.config)?;
            let id = Digest::of_bytes(&config_bytes);
            // The config's file name is its digest (`<hex>.json` or `blobs/sha256/<hex>`).
            if let Some(expected) = digest_in_file_name(&entry.config) {
                expected.verify(&id, &format!("image config {}", entry.config))?;
            }
            let config = parse_config(&config_bytes)?;
            if config.diff_ids.len() != entry.layers.len() {
                return Err(ImageError::archive(
                    &where_,
                    format!(
                        "config lists {} layers, manifest.json {}",
                        config.diff_ids.len(),
                        entry.layers.len()
                    ),
                ));
            }
            let repo_tags = entry
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| normalize_reference(t).map(|r| r.to_string()))
                .collect::<Result<Vec<_>>>()?;
            let blobs: Vec<LayerBlob> = entry
                .layers
                .into_iter()
                .map(|path| LayerBlob {
                    path,
                    compressed_digest: None,
                })
                .collect();
            let _op = self.unpack_layers(source, &config.diff_ids, &blobs)?;
            out.push(self.commit(PendingImage {
                config_bytes,
                config,
                manifest: None,
                repo_tags,
                repo_digests: Vec::new(),
            })?);
        }
        Ok(out)
    }

    fn import_oci_layout(&self, source: &Source, origin: &Path) -> Result<Vec<ImageRecord>> {
        let where_ = source.describe();
        let index: ImageIndex = serde_json::from_slice(&source.read_small("index.json")?)
            .map_err(|e| ImageError::archive(&where_, format!("index.json: {e}")))?;
        if index.manifests.is_empty() {
            return Err(ImageError::archive(&where_, "index.json lists no image"));
        }
        let mut out = Vec::new();
        for top in &index.manifests {
            let name = image_name(top, origin)?;
            let (manifest_bytes, manifest) = resolve_manifest(source, top)?;
            let config_bytes = read_blob(source, &manifest.config)?;
            let config = parse_config(&config_bytes)?;
            if config.diff_ids.len() != manifest.layers.len() {
                return Err(ImageError::InvalidImage(format!(
                    "config lists {} layers, manifest {}",
                    config.diff_ids.len(),
                    manifest.layers.len()
                )));
            }
            let blobs: Vec<LayerBlob> = manifest
                .layers
                .iter()
                .map(|d| LayerBlob {
                    path: blob_path(&d.digest),
                    compressed_digest: Some(d.digest.clone()),
                })
                .collect();
            let _op = self.unpack_layers(source, &config.diff_ids, &blobs)?;
            let (repo_tags, repo_digests) = match &name {
                Some(r) => (
                    r.tagged().into_iter().collect(),
                    vec![format!("{}@{}", r.name(), top.digest)],
                ),
                None => (Vec::new(), Vec::new()),
            };
            out.push(self.commit(PendingImage {
                config_bytes,
                config,
                manifest: Some((manifest_bytes.0, manifest_bytes.1)),
                repo_tags,
                repo_digests,
            })?);
        }
        Ok(out)
    }

    /// Unpacks the layers not yet in the store, verifying the compressed digest
    /// (when known) and the diffID. The returned lease protects them until commit.
    fn unpack_layers(
        &self,
        source: &Source,
        diff_ids: &[Digest],
        blobs: &[LayerBlob],
    ) -> Result<OpLease> {
        let op = self.begin_operation(diff_ids)?;
        for (diff_id, blob) in diff_ids.iter().zip(blobs) {
            self.ensure_layer(diff_id, |dest| {
                let mut reader = HashingReader::new(source.open(&blob.path)?);
                let unpacked = unpack_layer(&mut reader, dest)?;
                let (actual, _) = reader.finish().ctx(|| format!("read {}", blob.path))?;
                if let Some(expected) = &blob.compressed_digest {
                    expected.verify(&actual, &format!("layer blob {}", blob.path))?;
                }
                Ok(unpacked)
            })?;
        }
        Ok(op)
    }
}

fn is_gzip(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = File::open(path).ctx(|| format!("open {}", path.display()))?;
    let n = f
        .read(&mut magic)
        .ctx(|| format!("read {}", path.display()))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// Reads a small blob and checks its digest and size against the descriptor.
fn read_blob(source: &Source, desc: &Descriptor) -> Result<Vec<u8>> {
    let bytes = source.read_small(&blob_path(&desc.digest))?;
    desc.digest
        .verify(&Digest::of_bytes(&bytes), &format!("blob {}", desc.digest))?;
    if desc.size >= 0 && bytes.len() as i64 != desc.size {
        return Err(ImageError::InvalidImage(format!(
            "blob {} has {} bytes, descriptor says {}",
            desc.digest,
            bytes.len(),
            desc.size
        )));
    }
    Ok(bytes)
}

type ManifestBlob = (Digest, Vec<u8>);

/// Follows nested indexes down to the linux/amd64 image manifest.
fn resolve_manifest(
    source: &Source,
    top: &Descriptor,
) -> Result<(ManifestBlob, super::manifest::ImageManifest)> {
    let mut desc = top.clone();
    for _ in 0..MAX_INDEX_DEPTH {
        let bytes = read_blob(source, &desc)?;
        match parse_manifest(&bytes, desc.media_type.as_deref())? {
            Manifest::Image(m) => return Ok(((desc.digest.clone(), bytes), m)),
            Manifest::Index(index) => desc = select_platform(&index)?.clone(),
        }
    }
    Err(ImageError::InvalidImage(
        "image indexes nested too deeply".into(),
    ))
}

/// The name an OCI layout gives a manifest. A full reference (`reg/repo:tag`) is used
/// as is; containerd's annotation wins. A bare ref name (`latest`) carries no
/// repository, so the image is imported untagged.
fn image_name(desc: &Descriptor, origin: &Path) -> Result<Option<super::reference::NormalizedRef>> {
    let named = desc
        .annotations
        .get(CONTAINERD_NAME_ANNOTATION)
        .or_else(|| desc.annotations.get(REF_NAME_ANNOTATION));
    match named {
        Some(n) if n.contains(['/', ':', '@']) => normalize_reference(n).map(Some),
        Some(n) => {
            tracing::warn!(
                "{}: ref name {n:?} has no repository; importing {} untagged",
                origin.display(),
                desc.digest
            );
            Ok(None)
        }
        None => Ok(None),
    }
}

fn digest_in_file_name(name: &str) -> Option<Digest> {
    let base = Path::new(name).file_name()?.to_str()?;
    let hex = base.strip_suffix(".json").unwrap_or(base);
    Digest::parse(&format!("sha256:{hex}")).ok()
}
