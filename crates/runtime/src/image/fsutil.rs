//! File-system helpers: advisory locks across processes, atomic writes, staging dirs.
//! Every store mutation is staged under `images/tmp/` (same file system) and
//! published with `rename(2)`, so readers never see a partial file or layer.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{IoContext, Result};

/// An exclusive `flock(2)` held until drop. flock locks belong to the open file
/// description, so they also serialise threads of one process that open separately.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    pub fn exclusive(path: &Path) -> Result<FileLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .ctx(|| format!("open lock file {}", path.display()))?;
        loop {
            // SAFETY: flock on a valid, owned descriptor.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(FileLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err).ctx(|| format!("lock {}", path.display()));
            }
        }
    }
}

/// Writes `data` to `path` atomically: temp file in `tmp_dir`, fsync, rename.
pub fn write_atomic(tmp_dir: &Path, path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_with(tmp_dir, path, data, true)
}

/// Like `write_atomic` without the fsync: atomic for readers and across a crash of the
/// process, not across a power loss. For records that mean nothing after a reboot.
pub fn write_atomic_volatile(tmp_dir: &Path, path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_with(tmp_dir, path, data, false)
}

fn write_atomic_with(tmp_dir: &Path, path: &Path, data: &[u8], durable: bool) -> Result<()> {
    let tmp = unique_tmp_path(tmp_dir, "file");
    let result = (|| {
        let mut f = File::create(&tmp).ctx(|| format!("create {}", tmp.display()))?;
        f.write_all(data)
            .ctx(|| format!("write {}", tmp.display()))?;
        if durable {
            f.sync_all().ctx(|| format!("sync {}", tmp.display()))?;
        }
        fs::rename(&tmp, path).ctx(|| format!("rename into {}", path.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A path under `tmp_dir` no other thread or process will pick: the pid, a
/// per-process counter and the time make it unique.
pub fn unique_tmp_path(tmp_dir: &Path, what: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    tmp_dir.join(format!("{what}-{}-{n}-{nanos}", std::process::id()))
}

/// A staging directory removed on drop unless it was renamed away (`persist`).
pub struct StagingDir {
    path: Option<PathBuf>,
}

impl StagingDir {
    pub fn new(tmp_dir: &Path, what: &str) -> Result<StagingDir> {
        let path = unique_tmp_path(tmp_dir, what);
        fs::create_dir(&path).ctx(|| format!("create {}", path.display()))?;
        Ok(StagingDir { path: Some(path) })
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Renames the staged directory to `dest`. Returns `Ok(false)` (and discards the
    /// staged copy) when another writer published `dest` first.
    pub fn persist(mut self, dest: &Path) -> Result<bool> {
        let Some(path) = self.path.take() else {
            return Ok(false);
        };
        match fs::rename(&path, dest) {
            Ok(()) => Ok(true),
            Err(e) if dest.exists() => {
                tracing::debug!(
                    "{} already published ({e}); dropping staged copy",
                    dest.display()
                );
                remove_tree(&path);
                Ok(false)
            }
            Err(e) => {
                remove_tree(&path);
                Err(e).ctx(|| format!("rename into {}", dest.display()))
            }
        }
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            remove_tree(&path);
        }
    }
}

/// Best-effort recursive removal (for cleanup paths where the error cannot be acted on).
pub fn remove_tree(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}
