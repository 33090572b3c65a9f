//! The [`VolumeManager`]: sets up a pod's API-projected volumes, keeps them current and removes
//! them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Volume};
use kube::Client;

use crate::error::VolumeError;
use crate::fetch::{Fetcher, PassCache};
use crate::layout::{check_component, volume_dir, VolumeKind};
use crate::tokens::TokenCache;
use crate::{cleanup, payload, writer};

/// How often the refresher re-reads pods and the objects their volumes project.
pub const DEFAULT_RESYNC_PERIOD: Duration = Duration::from_secs(2);

/// Materialises `configMap`, `secret`, `downwardAPI` and `projected` volumes under
/// `DATA/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>/` for the container runtime to
/// bind-mount. Secret and projected volumes are tmpfs mounts.
pub struct VolumeManager {
    pub(crate) client: Client,
    pub(crate) data_dir: PathBuf,
    pub(crate) node_name: String,
    pub(crate) tokens: TokenCache,
    /// Pods whose volumes are set up, by UID: the refresher keeps these current.
    pub(crate) pods: Mutex<HashMap<String, ManagedPod>>,
    /// One lock per pod so `prepare`, the refresher and `cleanup` never write a pod at once.
    pod_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    pub(crate) resync_period: Duration,
}

pub(crate) struct ManagedPod {
    pub pod: Pod,
    /// The last refresh error, so a persisting one is logged once.
    pub last_error: Option<String>,
}

impl VolumeManager {
    pub fn new(client: Client, data_dir: PathBuf, node_name: String) -> Self {
        VolumeManager {
            client,
            data_dir,
            node_name,
            tokens: TokenCache::default(),
            pods: Mutex::new(HashMap::new()),
            pod_locks: Mutex::new(HashMap::new()),
            resync_period: DEFAULT_RESYNC_PERIOD,
        }
    }

    /// Changes how often the refresher polls (default [`DEFAULT_RESYNC_PERIOD`]).
    pub fn with_resync_period(mut self, period: Duration) -> Self {
        self.resync_period = period;
        self
    }

    /// Sets up every configMap/secret/downwardAPI/projected volume of `pod` and returns the
    /// host directory of each (by volume name); other volume types are not returned. Idempotent:
    /// calling it again rewrites only what changed. On success the pod is kept current by the
    /// refresher until [`VolumeManager::cleanup`].
    ///
    /// The directories update in place (`..data` swaps), so a bind mount of a whole volume sees
    /// updates; a `subPath` mount pins one file and does not, as in Kubernetes.
    pub async fn prepare(&self, pod: &Pod) -> Result<HashMap<String, PathBuf>, VolumeError> {
        let uid = pod_uid(pod)?;
        let lock = self.pod_lock(&uid);
        let _guard = lock.lock().await;
        let mut cache = PassCache::default();
        let (paths, errors) = self.set_up(&mut cache, pod, &uid).await;
        if let Some(first) = errors.into_iter().next() {
            return Err(first);
        }
        let mut pods = self.lock_pods();
        let managed = pods.entry(uid).or_insert_with(|| ManagedPod {
            pod: pod.clone(),
            last_error: None,
        });
        managed.pod = pod.clone();
        Ok(paths)
    }

    /// The directory [`VolumeManager::prepare`] returns for each volume it sets up, known
    /// before it runs: the sandbox can be made while the volumes are written. Empty when the
    /// pod has no valid UID (`prepare` then fails).
    pub fn planned_dirs(&self, pod: &Pod) -> HashMap<String, PathBuf> {
        let Ok(uid) = pod_uid(pod) else {
            return HashMap::new();
        };
        pod.spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .filter_map(|v| {
                let kind = VolumeKind::of(v)?;
                Some((
                    v.name.clone(),
                    volume_dir(&self.data_dir, &uid, kind, &v.name),
                ))
            })
            .collect()
    }

    /// Unmounts and removes every volume this crate made for the pod. Safe to call for any UID,
    /// also one never prepared or prepared by an earlier process.
    pub async fn cleanup(&self, pod_uid: &str) -> anyhow::Result<()> {
        check_component("pod UID", pod_uid).map_err(anyhow::Error::msg)?;
        self.lock_pods().remove(pod_uid);
        self.tokens.forget_pod(pod_uid);
        let lock = self.pod_lock(pod_uid);
        let guard = lock.lock().await;
        let data_dir = self.data_dir.clone();
        let uid = pod_uid.to_string();
        tokio::task::spawn_blocking(move || cleanup::remove_pod_volumes(&data_dir, &uid)).await??;
        drop(guard);
        self.pod_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(pod_uid);
        Ok(())
    }

    /// Sets up every volume it can; returns the paths of those that worked and the errors of
    /// the others (a failing volume keeps its previous content).
    pub(crate) async fn set_up(
        &self,
        cache: &mut PassCache,
        pod: &Pod,
        uid: &str,
    ) -> (HashMap<String, PathBuf>, Vec<VolumeError>) {
        let mut paths = HashMap::new();
        let mut errors = Vec::new();
        let pod_json = match serde_json::to_value(pod) {
            Ok(v) => v,
            Err(e) => return (paths, vec![VolumeError::pod(format!("encode pod: {e}"))]),
        };
        let fs_group = match fs_group(pod) {
            Ok(g) => g,
            Err(e) => return (paths, vec![VolumeError::pod(e)]),
        };
        let fetcher = Fetcher {
            client: &self.client,
            node_name: &self.node_name,
            tokens: &self.tokens,
        };
        for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let Some(kind) = VolumeKind::of(volume) else {
                continue;
            };
            match self
                .set_up_volume(&fetcher, cache, pod, &pod_json, uid, volume, kind, fs_group)
                .await
            {
                Ok(dir) => {
                    paths.insert(volume.name.clone(), dir);
                }
                Err(cause) => errors.push(VolumeError::setup_failed(&volume.name, &cause)),
            }
        }
        (paths, errors)
    }

    #[allow(clippy::too_many_arguments)]
    async fn set_up_volume(
        &self,
        fetcher: &Fetcher<'_>,
        cache: &mut PassCache,
        pod: &Pod,
        pod_json: &serde_json::Value,
        uid: &str,
        volume: &Volume,
        kind: VolumeKind,
        fs_group: Option<u32>,
    ) -> Result<PathBuf, String> {
        check_component("volume name", &volume.name)?;
        let inputs = fetcher.inputs(cache, pod, volume).await;
        let payload = payload::build(volume, pod_json, &inputs)?;
        let dir = volume_dir(&self.data_dir, uid, kind, &volume.name);
        let target = dir.clone();
        tokio::task::spawn_blocking(move || {
            writer::write_volume(&target, kind, &payload, fs_group)
        })
        .await
        .map_err(|e| format!("write task failed: {e}"))?
        .map_err(|e| e.to_string())?;
        Ok(dir)
    }

    pub(crate) fn pod_lock(&self, uid: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.pod_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(uid.to_string())
            .or_default()
            .clone()
    }

    pub(crate) fn lock_pods(&self) -> std::sync::MutexGuard<'_, HashMap<String, ManagedPod>> {
        self.pods.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The data directory this manager writes under.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

fn pod_uid(pod: &Pod) -> Result<String, VolumeError> {
    let uid = pod
        .metadata
        .uid
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| VolumeError::pod("pod has no metadata.uid"))?;
    check_component("pod UID", &uid).map_err(VolumeError::pod)?;
    Ok(uid)
}

/// `spec.securityContext.fsGroup` as a gid.
fn fs_group(pod: &Pod) -> Result<Option<u32>, String> {
    let group = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.as_ref())
        .and_then(|c| c.fs_group);
    group
        .map(|g| u32::try_from(g).map_err(|_| format!("invalid fsGroup {g}")))
        .transpose()
}
