//! A real API server per test, a client, a VolumeManager over a unique data dir, and guards
//! that unmount whatever the test mounted even when it fails.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::PostParams;
use kube::{Api, Client};
use peapod_volumes::mounts::{mounts_under, unmount_all};
use peapod_volumes::VolumeManager;
use serde_json::{json, Value};

pub const NODE: &str = "node-1";

/// Unmounts everything under its directory on drop, so a failing test leaves no mounts.
pub struct MountGuard(pub PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        if let Ok(mounts) = mounts_under(&self.0) {
            for m in mounts {
                let _ = unmount_all(&m);
            }
        }
    }
}

/// Field order matters: the refresher stops and mounts go before the temp dir is deleted.
pub struct Env {
    pub refresher: Option<tokio::task::JoinHandle<()>>,
    pub manager: Arc<VolumeManager>,
    pub client: Client,
    pub server: peapod_apiserver::Server,
    pub data_dir: PathBuf,
    _mounts: MountGuard,
    _tmp: tempfile::TempDir,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(handle) = self.refresher.take() {
            handle.abort();
        }
    }
}

impl Env {
    /// With the shipped resync period, so the 10 s update bound is tested as shipped.
    pub async fn start() -> anyhow::Result<Env> {
        Env::start_with_resync(None).await
    }

    pub async fn start_with_resync(resync: Option<Duration>) -> anyhow::Result<Env> {
        static CRYPTO: Once = Once::new();
        CRYPTO.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let tmp = tempfile::Builder::new()
            .prefix("peapod-volumes-")
            .tempdir()?;
        let data_dir = tmp.path().join("node");
        std::fs::create_dir_all(&data_dir)?;
        let guard = MountGuard(data_dir.clone());
        let server = peapod_apiserver::start(peapod_apiserver::ServerConfig::local(
            tmp.path().join("api"),
        ))
        .await?;
        let kubeconfig = kube::config::Kubeconfig::read_from(&server.kubeconfig)?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
        let client = Client::try_from(config)?;
        let mut manager = VolumeManager::new(client.clone(), data_dir.clone(), NODE.to_string());
        if let Some(period) = resync {
            manager = manager.with_resync_period(period);
        }
        let manager = Arc::new(manager);
        let env = Env {
            refresher: None,
            manager,
            client,
            server,
            data_dir,
            _mounts: guard,
            _tmp: tmp,
        };
        // The default ServiceAccount is created asynchronously with the namespace.
        let sas: Api<ServiceAccount> = Api::namespaced(env.client.clone(), "default");
        let sas = &sas;
        eventually(Duration::from_secs(10), || async move {
            matches!(sas.get_opt("default").await, Ok(Some(_)))
        })
        .await?;
        Ok(env)
    }

    pub fn start_refresher(&mut self) {
        self.refresher = Some(self.manager.clone().spawn_refresher());
    }

    /// Creates a pod (no containers run) with `volumes` and `labels`.
    pub async fn create_pod(
        &self,
        name: &str,
        volumes: Value,
        labels: Value,
    ) -> anyhow::Result<Pod> {
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels, "annotations": {"team": "blue"}},
            "spec": {
                "nodeName": NODE,
                "automountServiceAccountToken": false,
                "containers": [{
                    "name": "app",
                    "image": "busybox",
                    "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}}
                }],
                "volumes": volumes,
            }
        }))?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), "default");
        Ok(api.create(&PostParams::default(), &pod).await?)
    }
}

/// Polls `check` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            anyhow::bail!("condition not met within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The filesystem type mounted exactly at `dir`, from /proc/self/mountinfo.
pub fn mount_fstype(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().rev().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let mount_point = fields.get(4)?;
        if Path::new(mount_point) != dir {
            return None;
        }
        let dash = fields.iter().position(|f| *f == "-")?;
        fields.get(dash + 1).map(|s| s.to_string())
    })
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Entries of a volume directory that a container would see (not the writer's `..` entries).
pub fn visible_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with(".."))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
