//! Unpacks one layer tar (gzip or uncompressed) into its own directory, in the form
//! overlayfs expects of a lower layer: OCI whiteouts `.wh.NAME` become 0/0 character
//! devices and opaque markers `.wh..wh..opq` become `trusted.overlay.opaque=y`.
//! The diffID (sha256 of the uncompressed tar) is computed on the way.

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::digest::{Digest, HashingReader};
use super::error::{ImageError, IoContext, Result};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const PAX_XATTR_PREFIX: &str = "SCHILY.xattr.";

/// Result of unpacking a layer.
#[derive(Debug, Clone)]
pub struct UnpackedLayer {
    pub diff_id: Digest,
    /// Sum of the regular files' sizes.
    pub size: u64,
}

/// Unpacks `blob` (compressed or not; detected from its first bytes) into `dest`,
/// which must exist and be empty.
pub fn unpack_layer(blob: impl Read, dest: &Path) -> Result<UnpackedLayer> {
    let mut buffered = BufReader::with_capacity(256 * 1024, blob);
    let head = buffered
        .fill_buf()
        .ctx(|| "read layer".to_string())?
        .to_vec();
    let decompressed: Box<dyn Read> = match head.as_slice() {
        [0x1f, 0x8b, ..] => Box::new(MultiGzDecoder::new(buffered)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            return Err(ImageError::InvalidImage(
                "zstd-compressed layers are not supported (gzip and uncompressed are)".into(),
            ))
        }
        _ => Box::new(buffered),
    };
    let mut archive = tar::Archive::new(HashingReader::new(decompressed));
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    // xattrs are applied by us, filtered (see apply_xattrs).
    archive.set_unpack_xattrs(false);

    let root = dest
        .canonicalize()
        .ctx(|| format!("resolve {}", dest.display()))?;
    let mut size = 0u64;
    let entries = archive.entries().map_err(layer_err)?;
    for entry in entries {
        let mut entry = entry.map_err(layer_err)?;
        size += unpack_entry(&mut entry, &root)?;
    }
    let (diff_id, _) = archive.into_inner().finish().map_err(layer_err)?;
    Ok(UnpackedLayer { diff_id, size })
}

fn layer_err(e: std::io::Error) -> ImageError {
    ImageError::InvalidImage(format!("layer tar: {e}"))
}

/// Unpacks one entry; returns the bytes of regular file content written.
fn unpack_entry<R: Read>(entry: &mut tar::Entry<R>, root: &Path) -> Result<u64> {
    let raw_path = entry.path().map_err(layer_err)?.into_owned();
    let Some(rel) = clean_relative(&raw_path)? else {
        return Ok(0); // the root itself ("./")
    };
    let name = rel.file_name().unwrap_or_default();
    let parent_rel = rel.parent().unwrap_or(Path::new(""));

    if name == OsStr::new(OPAQUE_MARKER) {
        let dir = ensure_parent_inside(root, &rel)?;
        xattr::set(&dir, OVERLAY_OPAQUE_XATTR, b"y")
            .ctx(|| format!("mark {} opaque", dir.display()))?;
        return Ok(0);
    }
    if let Some(hidden) = name.as_bytes().strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
        if hidden.starts_with(WHITEOUT_PREFIX.as_bytes()) {
            return Ok(0); // other AUFS metadata (.wh..wh.plnk, ...): not content
        }
        let target = parent_rel.join(OsStr::from_bytes(hidden));
        let dir = ensure_parent_inside(root, &target)?;
        let path = dir.join(OsStr::from_bytes(hidden));
        remove_existing(&path)?;
        make_node(&path, libc::S_IFCHR, 0, 0)?;
        return Ok(0);
    }

    let kind = entry.header().entry_type();
    let dir = ensure_parent_inside(root, &rel)?;
    let path = dir.join(name);
    let special = if kind.is_character_special() {
        Some(libc::S_IFCHR)
    } else if kind.is_block_special() {
        Some(libc::S_IFBLK)
    } else if kind.is_fifo() {
        Some(libc::S_IFIFO)
    } else {
        None
    };
    let replace = match fs::symlink_metadata(&path) {
        Ok(meta) => !(kind.is_dir() && meta.is_dir()),
        Err(_) => false,
    };
    if replace {
        remove_existing(&path)?;
    }
    let xattrs = pax_xattrs(entry)?;
    let header = entry.header();
    if let Some(file_type) = special {
        let mode = header.mode().map_err(layer_err)? & 0o7777;
        let major = header.device_major().map_err(layer_err)?.unwrap_or(0);
        let minor = header.device_minor().map_err(layer_err)?.unwrap_or(0);
        make_node(&path, file_type | mode, major, minor)?;
        let (uid, gid) = (
            header.uid().map_err(layer_err)?,
            header.gid().map_err(layer_err)?,
        );
        std::os::unix::fs::lchown(&path, Some(uid as u32), Some(gid as u32))
            .ctx(|| format!("chown {}", path.display()))?;
    } else {
        let unpacked = entry
            .unpack_in(root)
            .map_err(|e| ImageError::InvalidImage(format!("unpack {}: {e}", rel.display())))?;
        if !unpacked {
            return Err(ImageError::InvalidImage(format!(
                "layer entry {} escapes the layer",
                raw_path.display()
            )));
        }
    }
    apply_xattrs(&path, &xattrs)?;
    Ok(if kind.is_file() || kind == tar::EntryType::Continuous {
        entry.header().size().unwrap_or(0)
    } else {
        0
    })
}

/// Strips `/` and `.`; rejects `..`. `None` means the entry is the root itself.
fn clean_relative(path: &Path) -> Result<Option<PathBuf>> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                return Err(ImageError::InvalidImage(format!(
                    "layer entry {} contains '..'",
                    path.display()
                )))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Creates the parent directories of `rel` under `root` and returns the parent's
/// real path, refusing any that resolve outside `root` through symlinks.
fn ensure_parent_inside(root: &Path, rel: &Path) -> Result<PathBuf> {
    let parent = root.join(rel.parent().unwrap_or(Path::new("")));
    fs::create_dir_all(&parent).ctx(|| format!("create {}", parent.display()))?;
    let real = parent
        .canonicalize()
        .ctx(|| format!("resolve {}", parent.display()))?;
    if !real.starts_with(root) {
        return Err(ImageError::InvalidImage(format!(
            "layer entry {} resolves outside the layer",
            rel.display()
        )));
    }
    Ok(real)
}

fn remove_existing(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(path).ctx(|| format!("remove {}", path.display()))
        }
        Ok(_) => fs::remove_file(path).ctx(|| format!("remove {}", path.display())),
        Err(_) => Ok(()),
    }
}

fn make_node(path: &Path, mode: libc::mode_t, major: u32, minor: u32) -> Result<()> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| ImageError::InvalidImage(format!("NUL in path {}", path.display())))?;
    // SAFETY: valid NUL-terminated path; mknod has no other memory effects.
    let rc = unsafe { libc::mknod(c_path.as_ptr(), mode, libc::makedev(major, minor)) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()).ctx(|| format!("mknod {}", path.display()));
    }
    Ok(())
}

fn pax_xattrs<R: Read>(entry: &mut tar::Entry<R>) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    if let Some(exts) = entry.pax_extensions().map_err(layer_err)? {
        for ext in exts {
            let ext = ext.map_err(layer_err)?;
            if let Ok(key) = ext.key() {
                if let Some(name) = key.strip_prefix(PAX_XATTR_PREFIX) {
                    out.push((name.to_string(), ext.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(out)
}

/// Applies the entry's xattrs except `trusted.overlay.*`: an image must not be able
/// to plant overlayfs metadata (redirects, opaque flags) except through whiteouts.
fn apply_xattrs(path: &Path, xattrs: &[(String, Vec<u8>)]) -> Result<()> {
    for (name, value) in xattrs {
        if name.starts_with("trusted.overlay.") {
            continue;
        }
        if let Err(e) = xattr::set(path, name, value) {
            // Some file systems lack a namespace (e.g. security.* labels); not fatal.
            tracing::debug!("xattr {name} on {}: {e}", path.display());
        }
    }
    Ok(())
}
