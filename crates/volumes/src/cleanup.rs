//! Removing a pod's volumes: unmount every tmpfs, then delete the directories.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{bail, Context};

use crate::layout::{pod_volumes_dir, VolumeKind};
use crate::mounts::{mounts_under, unmount_all};

/// Unmounts and deletes the plugin directories this crate owns for `pod_uid`, then the pod's
/// `volumes` and pod directory when nothing else (other volume types) is left in them.
pub(crate) fn remove_pod_volumes(data_dir: &Path, pod_uid: &str) -> anyhow::Result<()> {
    let volumes = pod_volumes_dir(data_dir, pod_uid);
    for kind in VolumeKind::ALL {
        let plugin = volumes.join(kind.plugin_dir());
        if !plugin.exists() {
            continue;
        }
        for mount in mounts_under(&plugin)? {
            unmount_all(&mount).with_context(|| format!("unmount {}", mount.display()))?;
        }
        // Never delete through a mount that refused to go away.
        let left = mounts_under(&plugin)?;
        if !left.is_empty() {
            bail!("still mounted under {}: {left:?}", plugin.display());
        }
        fs::remove_dir_all(&plugin).with_context(|| format!("remove {}", plugin.display()))?;
    }
    remove_if_empty(&volumes)?;
    if let Some(pod_dir) = volumes.parent() {
        remove_if_empty(pod_dir)?;
    }
    Ok(())
}

fn remove_if_empty(dir: &Path) -> io::Result<()> {
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => Ok(()),
        Err(e) => Err(e),
    }
}
