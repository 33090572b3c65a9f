//! State shared by every part of the agent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::Client;
use peapod_network::PodNetwork;
use peapod_runtime::image::ImageStore;
use peapod_runtime::Runtime;

use crate::config::AgentConfig;
use crate::events::EventRecorder;
use crate::node::machine::Machine;
use crate::volume_plugins::VolumePlugins;

/// What the streaming server and cleanup need to find a pod's runtime objects.
#[derive(Debug, Clone, Default)]
pub struct PodRuntimeInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub sandbox_id: Option<String>,
    pub netns: Option<std::path::PathBuf>,
    /// container name → (current id, previous id)
    pub containers: HashMap<String, (String, Option<String>)>,
}

/// Resources an admitted pod holds on this node.
#[derive(Debug, Clone, Default)]
pub struct Admitted {
    pub cpu_milli: i128,
    pub memory: i128,
    pub storage: i128,
    pub host_ports: Vec<(u16, String, String)>,
}

pub struct Ctx {
    pub client: Client,
    pub cfg: Arc<AgentConfig>,
    pub runtime: Arc<Runtime>,
    pub images: ImageStore,
    pub network: Arc<dyn PodNetwork>,
    pub events: EventRecorder,
    pub machine: Machine,
    /// `status.allocatable` of the Node as JSON (for resourceFieldRef defaults).
    pub allocatable: serde_json::Value,
    pub volumes: VolumePlugins,
    /// pod uid → runtime objects.
    pub pods: Mutex<HashMap<String, PodRuntimeInfo>>,
    /// pod uid → admitted resources.
    pub admitted: Mutex<HashMap<String, Admitted>>,
}

impl Ctx {
    /// Runs a (blocking) runtime call off the async threads.
    pub async fn rt<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Runtime) -> anyhow::Result<T> + Send + 'static,
    {
        let rt = self.runtime.clone();
        tokio::task::spawn_blocking(move || f(&rt))
            .await
            .map_err(|e| anyhow::anyhow!("runtime task failed: {e}"))?
    }

    pub fn host_ip(&self) -> String {
        self.machine.host_ip.to_string()
    }

    pub fn set_pod_info(&self, info: PodRuntimeInfo) {
        if let Ok(mut pods) = self.pods.lock() {
            pods.insert(info.uid.clone(), info);
        }
    }

    pub fn forget_pod(&self, uid: &str) {
        if let Ok(mut pods) = self.pods.lock() {
            pods.remove(uid);
        }
        if let Ok(mut a) = self.admitted.lock() {
            a.remove(uid);
            tracing::debug!("forgot pod {uid}: {} pods admitted", a.len());
        }
    }

    /// Looks a pod up by namespace and name (streaming requests name pods, not uids).
    pub fn find_pod(&self, namespace: &str, name: &str) -> Option<PodRuntimeInfo> {
        let pods = self.pods.lock().ok()?;
        pods.values()
            .find(|p| p.namespace == namespace && p.name == name)
            .cloned()
    }
}
