//! Where volumes live on the host, following the kubelet's layout:
//! `DATA/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>/`.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Volume;

/// The API-projected volume kinds this crate materialises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum VolumeKind {
    Secret,
    ConfigMap,
    DownwardApi,
    Projected,
}

impl VolumeKind {
    pub(crate) const ALL: [VolumeKind; 4] = [
        VolumeKind::Secret,
        VolumeKind::ConfigMap,
        VolumeKind::DownwardApi,
        VolumeKind::Projected,
    ];

    /// The kind of `volume`, or `None` for volume types this crate does not handle.
    pub(crate) fn of(volume: &Volume) -> Option<VolumeKind> {
        if volume.secret.is_some() {
            Some(VolumeKind::Secret)
        } else if volume.config_map.is_some() {
            Some(VolumeKind::ConfigMap)
        } else if volume.downward_api.is_some() {
            Some(VolumeKind::DownwardApi)
        } else if volume.projected.is_some() {
            Some(VolumeKind::Projected)
        } else {
            None
        }
    }

    /// The plugin directory name, as the kubelet names it.
    pub(crate) fn plugin_dir(self) -> &'static str {
        match self {
            VolumeKind::Secret => "kubernetes.io~secret",
            VolumeKind::ConfigMap => "kubernetes.io~configmap",
            VolumeKind::DownwardApi => "kubernetes.io~downward-api",
            VolumeKind::Projected => "kubernetes.io~projected",
        }
    }

    /// Secrets and projected volumes (which may hold tokens and secrets) live in memory only.
    pub(crate) fn on_tmpfs(self) -> bool {
        matches!(self, VolumeKind::Secret | VolumeKind::Projected)
    }
}

/// `DATA/pods/<uid>/volumes`.
pub(crate) fn pod_volumes_dir(data_dir: &Path, pod_uid: &str) -> PathBuf {
    data_dir.join("pods").join(pod_uid).join("volumes")
}

/// `DATA/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>`.
pub(crate) fn volume_dir(
    data_dir: &Path,
    pod_uid: &str,
    kind: VolumeKind,
    volume: &str,
) -> PathBuf {
    pod_volumes_dir(data_dir, pod_uid)
        .join(kind.plugin_dir())
        .join(volume)
}

/// A pod UID or volume name must be one plain path component, so it cannot escape the data dir.
pub(crate) fn check_component(what: &str, value: &str) -> Result<(), String> {
    let bad = value.is_empty()
        || value == "."
        || value == ".."
        || value.contains('/')
        || value.contains('\0')
        || value.len() > 255;
    if bad {
        return Err(format!("invalid {what} {value:?}"));
    }
    Ok(())
}
