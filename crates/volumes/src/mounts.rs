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

/// Whether `dir` is itself a mount point.
pub fn is_mount_point(dir: &Path) -> io::Result<bool> {
    let dir = dir.canonicalize()?;
    Ok(mount_points()?.contains(&dir))
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
    use super::unescape_mountinfo;

    #[test]
    fn unescapes_octal_sequences() {
        assert_eq!(unescape_mountinfo("/a\\040b\\011c"), "/a b\tc");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo("/trail\\04"), "/trail\\04");
    }
}
