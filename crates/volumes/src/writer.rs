//! Preparing a volume's directory (on disk or on its own tmpfs) and writing its payload.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use crate::atomic_writer::{own_dir, write_payload, Payload};
use crate::layout::VolumeKind;
use crate::mounts::ensure_tmpfs;

/// Creates `dir` (mounting a tmpfs for memory-only kinds) and writes `payload` into it.
pub(crate) fn write_volume(
    dir: &Path,
    kind: VolumeKind,
    payload: &Payload,
    fs_group: Option<u32>,
) -> io::Result<bool> {
    // Parents are private to the host's root (the kubelet keeps its pod dirs 0750);
    // containers reach the volume through their bind mount, not through these.
    if let Some(parent) = dir.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if kind.on_tmpfs() {
        // The tmpfs root keeps its default mode (1777), as under the kubelet.
        ensure_tmpfs(dir)?;
    } else {
        // The kubelet's on-disk wrapper directory is world-readable and writable (0777);
        // containers mount it read-only.
        let mode = fs::metadata(dir)?.permissions().mode() & 0o7777;
        if mode & 0o777 != 0o777 {
            fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o777))?;
        }
    }
    if let Some(gid) = fs_group {
        own_dir(dir, gid)?;
    }
    write_payload(dir, payload, fs_group)
}
