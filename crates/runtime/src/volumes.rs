//! Pod volumes on the host: emptyDir (disk or tmpfs), hostPath type checks, plugin-prepared
//! directories, and `subPath` resolution that cannot escape the volume.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use nix::mount::{mount, MsFlags};

use crate::config::{HostPathType, Volume, VolumeSource};

/// Directory holding a sandbox's emptyDir volumes.
pub fn empty_dir_path(sandbox_dir: &Path, name: &str) -> PathBuf {
    sandbox_dir.join("volumes").join(name)
}

/// Creates the sandbox-owned part of each volume (emptyDir dirs and tmpfs mounts).
pub fn prepare(sandbox_dir: &Path, volumes: &[Volume]) -> anyhow::Result<()> {
    for v in volumes {
        validate_name(&v.name)?;
        if let VolumeSource::EmptyDir { memory, size_limit } = &v.source {
            let dir = empty_dir_path(sandbox_dir, &v.name);
            fs::create_dir_all(&dir)
                .with_context(|| format!("creating emptyDir {}", dir.display()))?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o777))?;
            if *memory {
                let mut opts = "mode=1777".to_string();
                if let Some(size) = size_limit {
                    opts.push_str(&format!(",size={size}"));
                }
                mount(
                    Some("tmpfs"),
                    &dir,
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    Some(opts.as_str()),
                )
                .with_context(|| format!("mounting tmpfs emptyDir {}", dir.display()))?;
            }
        }
    }
    Ok(())
}

fn validate_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        bail!("invalid volume name {name:?}");
    }
    Ok(())
}

/// The host path to bind for a volume, after the hostPath `type` checks.
pub fn host_path(sandbox_dir: &Path, v: &Volume) -> anyhow::Result<PathBuf> {
    match &v.source {
        VolumeSource::EmptyDir { .. } => Ok(empty_dir_path(sandbox_dir, &v.name)),
        VolumeSource::Prepared { path } => Ok(path.clone()),
        VolumeSource::HostPath { path, kind } => {
            check_host_path(path, *kind)?;
            Ok(path.clone())
        }
    }
}

pub fn check_host_path(path: &Path, kind: HostPathType) -> anyhow::Result<()> {
    if !path.is_absolute() {
        bail!("hostPath {} must be absolute", path.display());
    }
    let meta = fs::metadata(path);
    let wrong = |what: &str| {
        anyhow::anyhow!(
            "hostPath type check failed: {} is not a {what}",
            path.display()
        )
    };
    match kind {
        HostPathType::Unset => {}
        HostPathType::DirectoryOrCreate => {
            if meta.is_err() {
                fs::create_dir_all(path)
                    .with_context(|| format!("creating hostPath {}", path.display()))?;
                fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
            } else if !path.is_dir() {
                return Err(wrong("directory"));
            }
        }
        HostPathType::FileOrCreate => {
            if meta.is_err() {
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("creating hostPath file {}", path.display()))?;
            } else if !path.is_file() {
                return Err(wrong("file"));
            }
        }
        HostPathType::Directory => {
            if !meta.map(|m| m.is_dir()).unwrap_or(false) {
                return Err(wrong("directory"));
            }
        }
        HostPathType::File => {
            if !meta.map(|m| m.is_file()).unwrap_or(false) {
                return Err(wrong("file"));
            }
        }
        HostPathType::Socket => {
            if !meta.map(|m| m.file_type().is_socket()).unwrap_or(false) {
                return Err(wrong("socket"));
            }
        }
        HostPathType::CharDevice => {
            if !meta
                .map(|m| m.file_type().is_char_device())
                .unwrap_or(false)
            {
                return Err(wrong("character device"));
            }
        }
        HostPathType::BlockDevice => {
            if !meta
                .map(|m| m.file_type().is_block_device())
                .unwrap_or(false)
            {
                return Err(wrong("block device"));
            }
        }
    }
    Ok(())
}

/// Resolves `sub` inside `root`, creating missing directories like the kubelet does, and
/// refusing `..`, absolute paths and symlinks that lead outside the volume.
pub fn resolve_sub_path(root: &Path, sub: &str) -> anyhow::Result<PathBuf> {
    let rel = Path::new(sub);
    if rel.is_absolute() {
        bail!("subPath {sub:?} must be relative");
    }
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        bail!("subPath {sub:?} must not contain '..'");
    }
    let root_fd = open_dir(root)?;
    let mut cur = PathBuf::new();
    for comp in rel.components() {
        let Component::Normal(name) = comp else {
            continue;
        };
        cur.push(name);
        match open_beneath(&root_fd, &cur) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                let parent = cur.parent().unwrap_or(Path::new(""));
                let parent_fd = if parent.as_os_str().is_empty() {
                    root_fd.try_clone()?
                } else {
                    open_beneath(&root_fd, parent).with_context(|| format!("subPath {sub:?}"))?
                };
                let cname = CString::new(name.as_encoded_bytes())?;
                // SAFETY: mkdirat on an fd we own and a NUL-terminated name (no '/').
                let rc = unsafe { libc::mkdirat(parent_fd.as_raw_fd(), cname.as_ptr(), 0o755) };
                if rc != 0 {
                    let err = std::io::Error::last_os_error();
                    if err.kind() != std::io::ErrorKind::AlreadyExists {
                        return Err(err).with_context(|| format!("creating subPath {sub:?}"));
                    }
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                bail!("subPath {sub:?} escapes the volume {}", root.display())
            }
            Err(e) => return Err(e).with_context(|| format!("subPath {sub:?}")),
        }
    }
    let fd = open_beneath(&root_fd, &cur).map_err(|e| {
        if e.raw_os_error() == Some(libc::EXDEV) {
            anyhow::anyhow!("subPath {sub:?} escapes the volume {}", root.display())
        } else {
            anyhow::anyhow!("subPath {sub:?}: {e}")
        }
    })?;
    fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).context("resolving subPath")
}

fn open_dir(path: &Path) -> anyhow::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())?;
    // SAFETY: NUL-terminated path; the returned fd is owned below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("opening volume {}", path.display()));
    }
    // SAFETY: fd was just returned by open and is not owned elsewhere.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// openat2 with RESOLVE_BENEATH: symlinks are followed but may not leave `root`.
fn open_beneath(root: &OwnedFd, rel: &Path) -> std::io::Result<OwnedFd> {
    let c = CString::new(rel.as_os_str().as_encoded_bytes()).map_err(std::io::Error::other)?;
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 with a valid dirfd, NUL-terminated path and a properly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by openat2.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_path_stays_inside_the_volume() {
        let dir = tempfile::tempdir().unwrap();
        let vol = dir.path().join("vol");
        fs::create_dir_all(vol.join("a")).unwrap();
        std::os::unix::fs::symlink("/etc", vol.join("abs")).unwrap();
        std::os::unix::fs::symlink("../..", vol.join("a/up")).unwrap();
        std::os::unix::fs::symlink("a", vol.join("inside")).unwrap();
        let vol_real = fs::canonicalize(&vol).unwrap();
        assert_eq!(resolve_sub_path(&vol, "a").unwrap(), vol_real.join("a"));
        assert_eq!(
            resolve_sub_path(&vol, "inside").unwrap(),
            vol_real.join("a")
        );
        assert_eq!(
            resolve_sub_path(&vol, "new/deep").unwrap(),
            vol_real.join("new/deep")
        );
        assert!(vol.join("new/deep").is_dir());
        assert!(resolve_sub_path(&vol, "../x").is_err());
        assert!(resolve_sub_path(&vol, "/etc").is_err());
        assert!(resolve_sub_path(&vol, "abs")
            .unwrap_err()
            .to_string()
            .contains("escapes"));
        assert!(resolve_sub_path(&vol, "a/up")
            .unwrap_err()
            .to_string()
            .contains("escapes"));
        assert!(resolve_sub_path(&vol, "abs/newdir").is_err());
        assert!(!Path::new("/etc/newdir").exists());
    }

    #[test]
    fn host_path_types_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        check_host_path(&d, HostPathType::DirectoryOrCreate).unwrap();
        assert!(d.is_dir());
        check_host_path(&d, HostPathType::Directory).unwrap();
        assert!(check_host_path(&d, HostPathType::File).is_err());
        let f = dir.path().join("f");
        check_host_path(&f, HostPathType::FileOrCreate).unwrap();
        assert!(f.is_file());
        assert!(check_host_path(&f, HostPathType::DirectoryOrCreate).is_err());
        assert!(check_host_path(&f, HostPathType::Socket).is_err());
        assert!(check_host_path(&dir.path().join("missing"), HostPathType::Directory).is_err());
        check_host_path(Path::new("/dev/null"), HostPathType::CharDevice).unwrap();
    }
}
