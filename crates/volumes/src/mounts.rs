//! tmpfs mounts for memory-only volumes, and reading `/proc/self/mountinfo` to find them again
//! (also after an agent restart, when nothing is remembered).

use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// Mounts a fresh tmpfs on `dir` unless something is mounted there already.
pub fn ensure_tmpfs(dir: &Path) -> io::Result<()> {
    if is_mount_point(dir)? {
        return Ok(());
    }
    // nosuid/nodev: volume content comes from API objects and must not grant privileges.
    // Not noexec: projected ConfigMaps may carry scripts with an executable defaultMode.
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        None::<&str>,
    )
    .map_err(|e| io::Error::other(format!("mount tmpfs on {}: {e}", dir.display())))
}

/// Whether `dir` is itself a mount point. The kernel says so in one `statx` (Linux 5.8+);
/// reading the whole mount table instead costs more with every pod on the node.
pub fn is_mount_point(dir: &Path) -> io::Result<bool> {
    let dir = dir.canonicalize()?;
    match statx_mount_root(&dir)? {
        Some(root) => Ok(root),
        None => Ok(mount_points()?.contains(&dir)),
    }
}

/// `STATX_ATTR_MOUNT_ROOT` of `path`; `None` when the kernel does not report it.
fn statx_mount_root(path: &Path) -> io::Result<Option<bool>> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))?;
    // SAFETY: an all-zero statx is a valid value to be filled in.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a writable statx.
    let rc = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_BASIC_STATS,
            &mut st,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let attr = libc::STATX_ATTR_MOUNT_ROOT as u64;
    Ok((st.stx_attributes_mask & attr != 0).then_some(st.stx_attributes & attr != 0))
}

/// Every mount point at or below `root` (which need not exist), deepest first.
pub fn mounts_under(root: &Path) -> io::Result<Vec<PathBuf>> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut found: Vec<PathBuf> = mount_points()?
        .into_iter()
        .filter(|m| m.starts_with(&root))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.dedup();
    Ok(found)
}

/// Unmounts `dir` until nothing is mounted there; a busy mount is detached lazily so the
/// directory can still be removed.
pub fn unmount_all(dir: &Path) -> io::Result<()> {
    for _ in 0..16 {
        if !mount_points()?.iter().any(|m| m == dir) {
            return Ok(());
        }
        match umount2(dir, MntFlags::empty()) {
            Ok(()) => {}
            Err(nix::errno::Errno::EBUSY) => umount2(dir, MntFlags::MNT_DETACH)
                .map_err(|e| io::Error::other(format!("unmount {}: {e}", dir.display())))?,
            Err(e) => return Err(io::Error::other(format!("unmount {}: {e}", dir.display()))),
        }
    }
    Err(io::Error::other(format!("{} stays mounted", dir.display())))
}

/// The mount points of this mount namespace.
fn mount_points() -> io::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(text
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_mountinfo(field)))
        .collect())
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) if d[0] <= b'3' => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-`statx` answer agrees with the mount table, also for a bind mount of a
    /// directory of the same filesystem (where comparing device numbers would not tell).
    #[test]
    fn mount_point_checks_agree_with_the_mount_table() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (plain, bound) = (tmp.path().join("plain"), tmp.path().join("bound"));
        std::fs::create_dir_all(&plain).expect("mkdir");
        std::fs::create_dir_all(&bound).expect("mkdir");
        mount(
            Some(&plain),
            &bound,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .expect("bind mount (needs root)");
        let table = mount_points().expect("mountinfo");
        let checks: Vec<(PathBuf, bool)> = [Path::new("/"), Path::new("/proc"), &plain, &bound]
            .iter()
            .map(|p| (p.to_path_buf(), is_mount_point(p).expect("statx")))
            .collect();
        unmount_all(&bound).expect("unmount");
        for (path, is_mount) in checks {
            let canonical = path.canonicalize().expect("canonical");
            assert_eq!(is_mount, table.contains(&canonical), "{}", path.display());
        }
        assert!(!is_mount_point(&bound).expect("statx"), "unmounted again");
    }

    #[test]
    fn unescapes_octal_sequences() {
        assert_eq!(unescape_mountinfo("/a\\040b\\011c"), "/a b\tc");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo("/trail\\04"), "/trail\\04");
    }
}
