//! Writes a volume's file set so readers never see a half-written state, the way the kubelet
//! does: every version goes into a fresh `..<timestamp>` directory, the `..data` symlink is
//! swapped to it with one `rename`, and the user-visible top-level entries are symlinks
//! `name -> ..data/name`, so one path lookup always lands in one complete version.
//!
//! A replaced version is not deleted at once: a reader that already resolved `..data` to it may
//! still be walking into it. It is marked retired (its mtime set to the swap time) and removed
//! once it has been retired for [`RETIRE_GRACE`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{lchown, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One file of a volume: its bytes and permission bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProjection {
    pub data: Vec<u8>,
    pub mode: u32,
}

/// A volume's complete content: relative path → file.
pub type Payload = BTreeMap<String, FileProjection>;

const DATA_LINK: &str = "..data";
const DATA_LINK_TMP: &str = "..data_tmp";
const MAX_PATH_LEN: usize = 4096;
const MAX_NAME_LEN: usize = 255;
/// How long a replaced version stays readable after the swap.
pub const RETIRE_GRACE: Duration = Duration::from_secs(2);

/// Checks that `path` is a safe relative path inside the volume: not absolute, no `..`
/// component, not starting with `..` (reserved for the writer's own entries), no empty parts.
pub fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("invalid path: must not be empty".to_string());
    }
    if path.len() > MAX_PATH_LEN {
        return Err(format!(
            "invalid path {path:?}: longer than {MAX_PATH_LEN} characters"
        ));
    }
    if path.starts_with('/') {
        return Err(format!("invalid path {path:?}: must be relative"));
    }
    if path.contains('\0') {
        return Err(format!("invalid path {path:?}: contains a NUL byte"));
    }
    for part in path.split('/') {
        if part.is_empty() || part == "." {
            return Err(format!("invalid path {path:?}: empty or '.' element"));
        }
        if part == ".." {
            return Err(format!("invalid path {path:?}: must not contain '..'"));
        }
        if part.len() > MAX_NAME_LEN {
            return Err(format!(
                "invalid path {path:?}: element longer than {MAX_NAME_LEN}"
            ));
        }
    }
    if path.starts_with("..") {
        return Err(format!("invalid path {path:?}: must not start with '..'"));
    }
    Ok(())
}

/// The permission bits a file ends up with: the kubelet adds group read for `fsGroup`.
pub fn effective_file_mode(mode: u32, fs_group: Option<u32>) -> u32 {
    match fs_group {
        Some(_) => mode | 0o440,
        None => mode,
    }
}

/// Writes `payload` into the volume directory `dir` unless it already holds exactly that content.
/// Returns whether a new version was written. With `fs_group`, files and directories get that
/// group (and group read, setgid on directories), as the kubelet's volume ownership does.
pub fn write_payload(dir: &Path, payload: &Payload, fs_group: Option<u32>) -> io::Result<bool> {
    for path in payload.keys() {
        validate_path(path).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    let current = current_version(dir)?;
    let changed = match &current {
        Some(name) => !version_matches(&dir.join(name), payload, fs_group)?,
        None => true,
    };
    if changed {
        let version = new_version_dir(dir)?;
        let written = fill_version(&dir.join(&version), payload, fs_group);
        if let Err(e) = written {
            let _ = fs::remove_dir_all(dir.join(&version));
            return Err(e);
        }
        swap_data_link(dir, &version, fs_group)?;
        if let Some(old) = &current {
            mark_retired(&dir.join(old));
        }
    }
    sync_visible_links(dir, payload, fs_group)?;
    prune_retired(dir)?;
    Ok(changed)
}

/// Removes versions that were replaced more than [`RETIRE_GRACE`] ago (and leftovers of
/// interrupted writes).
pub fn prune_retired(dir: &Path) -> io::Result<()> {
    let current = current_version(dir)?;
    let now = SystemTime::now();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_version_name(name) || Some(name) == current.as_deref() {
            continue;
        }
        let meta = entry.metadata()?;
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if meta.is_dir() && age >= RETIRE_GRACE {
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// The directory `..data` points to, if any.
fn current_version(dir: &Path) -> io::Result<Option<String>> {
    match fs::read_link(dir.join(DATA_LINK)) {
        Ok(target) => Ok(target.to_str().map(str::to_string)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_version_name(name: &str) -> bool {
    name.starts_with("..") && name != DATA_LINK && name != DATA_LINK_TMP && name.len() > 2
}

/// Whether the version directory holds exactly `payload` (same files, bytes and modes).
fn version_matches(version: &Path, payload: &Payload, fs_group: Option<u32>) -> io::Result<bool> {
    let mut existing = BTreeSet::new();
    match collect_files(version, Path::new(""), &mut existing) {
        Ok(()) => {}
        // `..data` dangling (an interrupted cleanup): write a fresh version.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    if existing.len() != payload.len() || !payload.keys().all(|k| existing.contains(k)) {
        return Ok(false);
    }
    for (path, file) in payload {
        let full = version.join(path);
        let meta = fs::symlink_metadata(&full)?;
        if meta.permissions().mode() & 0o7777 != effective_file_mode(file.mode, fs_group) {
            return Ok(false);
        }
        if fs::read(&full)? != file.data {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Relative paths of all regular files below `dir`.
fn collect_files(dir: &Path, prefix: &Path, out: &mut BTreeSet<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let relative = prefix.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            collect_files(&entry.path(), &relative, out)?;
        } else if let Some(text) = relative.to_str() {
            out.insert(text.to_string());
        }
    }
    Ok(())
}

/// Creates a fresh `..YYYY_MM_DD_HH_MM_SS.nnnnnnnnn` directory and returns its name.
fn new_version_dir(dir: &Path) -> io::Result<String> {
    let stamp = chrono::Utc::now()
        .format("..%Y_%m_%d_%H_%M_%S%.9f")
        .to_string();
    for attempt in 0..100u32 {
        let name = if attempt == 0 {
            stamp.clone()
        } else {
            format!("{stamp}_{attempt}")
        };
        match fs::create_dir(dir.join(&name)) {
            Ok(()) => {
                fs::set_permissions(dir.join(&name), fs::Permissions::from_mode(0o755))?;
                return Ok(name);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "could not create a unique version directory",
    ))
}

/// Writes every file of `payload` into the (new, empty) version directory.
fn fill_version(version: &Path, payload: &Payload, fs_group: Option<u32>) -> io::Result<()> {
    for (path, file) in payload {
        let full = version.join(path);
        if let Some(parent) = full.parent() {
            create_dirs(version, parent, fs_group)?;
        }
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&full)?;
        out.write_all(&file.data)?;
        drop(out);
        if let Some(gid) = fs_group {
            lchown(&full, None, Some(gid))?;
        }
        // Set explicitly: the umask must not change the requested mode.
        fs::set_permissions(
            &full,
            fs::Permissions::from_mode(effective_file_mode(file.mode, fs_group)),
        )?;
    }
    if let Some(gid) = fs_group {
        own_dir(version, gid)?;
    }
    Ok(())
}

/// `mkdir -p` of `target` below `root`, each new directory 0755 (plus fsGroup ownership).
fn create_dirs(root: &Path, target: &Path, fs_group: Option<u32>) -> io::Result<()> {
    let Ok(relative) = target.strip_prefix(root) else {
        return Err(io::Error::other("path escapes the volume"));
    };
    let mut current = root.to_path_buf();
    for part in relative.components() {
        let Component::Normal(part) = part else {
            return Err(io::Error::other("unexpected path component"));
        };
        current.push(part);
        match fs::create_dir(&current) {
            Ok(()) => {
                fs::set_permissions(&current, fs::Permissions::from_mode(0o755))?;
                if let Some(gid) = fs_group {
                    own_dir(&current, gid)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Group ownership of a directory for fsGroup: the group, group r-x and setgid.
pub fn own_dir(dir: &Path, gid: u32) -> io::Result<()> {
    lchown(dir, None, Some(gid))?;
    let mode = fs::metadata(dir)?.permissions().mode() & 0o7777;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o2550))
}

/// Points `..data` at `version` atomically: a temporary link renamed over the old one.
fn swap_data_link(dir: &Path, version: &str, fs_group: Option<u32>) -> io::Result<()> {
    let tmp = dir.join(DATA_LINK_TMP);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::os::unix::fs::symlink(version, &tmp)?;
    if let Some(gid) = fs_group {
        lchown(&tmp, None, Some(gid))?;
    }
    fs::rename(&tmp, dir.join(DATA_LINK))
}

/// Stamps a replaced version with the swap time, which starts its grace period.
fn mark_retired(version: &Path) {
    let stamp = File::open(version)
        .and_then(|d| d.set_times(FileTimes::new().set_modified(SystemTime::now())));
    if let Err(e) = stamp {
        tracing::debug!(path = %version.display(), error = %e, "mark retired version");
    }
}

/// Makes the top-level entries match the payload: `name -> ..data/name` for each first path
/// element, and removes links whose names the payload no longer has.
fn sync_visible_links(dir: &Path, payload: &Payload, fs_group: Option<u32>) -> io::Result<()> {
    let wanted: BTreeSet<&str> = payload.keys().filter_map(|p| p.split('/').next()).collect();
    for name in &wanted {
        let link = dir.join(name);
        let target = PathBuf::from(DATA_LINK).join(name);
        match fs::read_link(&link) {
            Ok(existing) if existing == target => continue,
            Ok(_) => fs::remove_file(&link)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // Something other than a link is in the way (not written by us): replace it.
            Err(_) => remove_any(&link)?,
        }
        std::os::unix::fs::symlink(&target, &link)?;
        if let Some(gid) = fs_group {
            lchown(&link, None, Some(gid))?;
        }
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("..") || wanted.contains(name) {
            continue;
        }
        let points_into_data = fs::read_link(entry.path())
            .map(|t| t.starts_with(DATA_LINK))
            .unwrap_or(false);
        if points_into_data {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn remove_any(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

#[cfg(test)]
mod tests;
