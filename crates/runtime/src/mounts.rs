//! Host-side mounts the runtime owns (overlay roots, tmpfs for /dev/shm and memory
//! emptyDirs, subPath binds) and their removal.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// Mounts an overlayfs at `target` with `lower` (topmost first) and fresh upper/work dirs.
pub fn mount_overlay(
    lower: &[PathBuf],
    upper: &Path,
    work: &Path,
    target: &Path,
) -> anyhow::Result<()> {
    if lower.is_empty() {
        bail!("overlay rootfs needs at least one lower dir");
    }
    for l in lower {
        if !l.is_dir() {
            bail!("image layer {} is not a directory", l.display());
        }
        if l.to_string_lossy().contains([',', ':']) {
            bail!("layer path {} contains ',' or ':'", l.display());
        }
    }
    for d in [upper, work, target] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let lowerdir = lower
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let opts = format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        upper.display(),
        work.display()
    );
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(opts.as_str()),
    )
    .with_context(|| format!("mounting overlay at {}", target.display()))
}

pub fn mount_tmpfs(target: &Path, opts: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(target)?;
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(opts),
    )
    .with_context(|| format!("mounting tmpfs at {}", target.display()))
}

/// Decodes the octal escapes (`\040` for a space) of /proc/self/mountinfo fields.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Mount points at or below `dir`, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|f| PathBuf::from(unescape(f)))
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found.dedup();
    found
}

/// Unmounts everything at or below `dir` (lazily if busy).
pub fn unmount_all_under(dir: &Path) -> anyhow::Result<()> {
    for _ in 0..8 {
        let found = mounts_under(dir);
        if found.is_empty() {
            return Ok(());
        }
        for m in found {
            if umount2(&m, MntFlags::empty()).is_err() {
                umount2(&m, MntFlags::MNT_DETACH)
                    .with_context(|| format!("unmounting {}", m.display()))?;
            }
        }
    }
    if mounts_under(dir).is_empty() {
        Ok(())
    } else {
        bail!("mounts remain under {}", dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/end\\04"), "/end\\04");
    }
}
