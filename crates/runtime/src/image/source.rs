//! Random access to the files of an image archive: a tar (indexed once, then read
//! by offset, so nothing is extracted twice) or a directory (OCI layout).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::error::{ImageError, IoContext, Result};

/// Manifests and configs are small; refuse to buffer anything bigger.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;
const MAX_LINK_DEPTH: usize = 16;

pub enum Source {
    Tar(TarIndex),
    Dir(PathBuf),
}

pub struct TarIndex {
    file: PathBuf,
    /// normalised path → (data offset, size)
    files: HashMap<String, (u64, u64)>,
    /// normalised path → normalised target (symlinks and hard links)
    links: HashMap<String, String>,
}

impl Source {
    /// Indexes an uncompressed tar archive.
    pub fn tar(path: &Path) -> Result<Source> {
        let file = File::open(path).ctx(|| format!("open {}", path.display()))?;
        let mut archive = tar::Archive::new(file);
        let mut files = HashMap::new();
        let mut links = HashMap::new();
        let bad = |e: std::io::Error| ImageError::archive(path, format!("not a tar archive: {e}"));
        for entry in archive.entries().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let Some(name) = normalize(&entry.path().map_err(bad)?) else {
                continue;
            };
            let kind = entry.header().entry_type();
            if kind.is_file() {
                files.insert(name, (entry.raw_file_position(), entry.size()));
            } else if kind.is_symlink() || kind.is_hard_link() {
                let Some(target) = entry.link_name().map_err(bad)? else {
                    continue;
                };
                let base = if kind.is_symlink() {
                    Path::new(&name)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .join(&target)
                } else {
                    target.into_owned()
                };
                if let Some(t) = normalize(&base) {
                    links.insert(name, t);
                }
            }
        }
        Ok(Source::Tar(TarIndex {
            file: path.to_path_buf(),
            files,
            links,
        }))
    }

    pub fn exists(&self, name: &str) -> bool {
        match self {
            Source::Tar(t) => t.resolve(name).is_some(),
            Source::Dir(root) => normalize(Path::new(name)).is_some_and(|n| root.join(n).is_file()),
        }
    }

    /// Opens a file of the archive for streaming.
    pub fn open(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        match self {
            Source::Tar(t) => {
                let (offset, size) = t
                    .resolve(name)
                    .ok_or_else(|| ImageError::archive(&t.file, format!("missing file {name}")))?;
                let mut f = File::open(&t.file).ctx(|| format!("open {}", t.file.display()))?;
                f.seek(SeekFrom::Start(offset))
                    .ctx(|| format!("seek in {}", t.file.display()))?;
                Ok(Box::new(f.take(size)))
            }
            Source::Dir(root) => {
                let rel = normalize(Path::new(name))
                    .ok_or_else(|| ImageError::archive(root, format!("bad path {name}")))?;
                let path = root.join(rel);
                let f = File::open(&path).ctx(|| format!("open {}", path.display()))?;
                Ok(Box::new(f))
            }
        }
    }

    /// Reads a small file (manifest, config, index) completely.
    pub fn read_small(&self, name: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(name)?
            .take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut out)
            .ctx(|| format!("read {name}"))?;
        if out.len() as u64 > MAX_METADATA_BYTES {
            return Err(ImageError::InvalidImage(format!(
                "{name} is larger than {MAX_METADATA_BYTES} bytes"
            )));
        }
        Ok(out)
    }

    pub fn describe(&self) -> PathBuf {
        match self {
            Source::Tar(t) => t.file.clone(),
            Source::Dir(d) => d.clone(),
        }
    }
}

impl TarIndex {
    fn resolve(&self, name: &str) -> Option<(u64, u64)> {
        let mut current = normalize(Path::new(name))?;
        for _ in 0..MAX_LINK_DEPTH {
            if let Some(hit) = self.files.get(&current) {
                return Some(*hit);
            }
            current = self.links.get(&current)?.clone();
        }
        None
    }
}

/// Relative path without `.`/leading `/`; `None` for paths that are empty or climb
/// out with `..`.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}
