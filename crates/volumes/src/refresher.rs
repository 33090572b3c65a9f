//! Keeps prepared volumes current: polls every managed pod (for Downward API labels and
//! annotations) and the objects its volumes project, rewriting what changed, and renews
//! tokens when due. Polling every couple of seconds keeps updates well within 10 s without
//! holding watches per namespace.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::fetch::{api_message, PassCache};
use crate::manager::VolumeManager;

impl VolumeManager {
    /// Starts the background task that keeps every prepared pod's files current: object
    /// changes, pod label/annotation changes (Downward API) and token renewal at 80% of the
    /// token's lifetime. Abort the handle to stop it.
    pub fn spawn_refresher(self: Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.resync_period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.refresh_all().await;
            }
        })
    }

    /// One pass over every managed pod, sharing object reads between pods.
    pub(crate) async fn refresh_all(&self) {
        let pods: Vec<(String, Pod)> = self
            .lock_pods()
            .iter()
            .map(|(uid, managed)| (uid.clone(), managed.pod.clone()))
            .collect();
        let mut cache = PassCache::default();
        for (uid, pod) in pods {
            self.refresh_pod(&mut cache, &uid, pod).await;
        }
    }

    async fn refresh_pod(&self, cache: &mut PassCache, uid: &str, known: Pod) {
        let Some(pod) = self.current_pod(uid, known).await else {
            return;
        };
        let lock = self.pod_lock(uid);
        let _guard = lock.lock().await;
        // Cleaned up while waiting for the lock: leave it alone.
        if !self.lock_pods().contains_key(uid) {
            return;
        }
        let (_, errors) = self.set_up(cache, &pod, uid).await;
        let error = (!errors.is_empty()).then(|| {
            errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        });
        let mut pods = self.lock_pods();
        if let Some(managed) = pods.get_mut(uid) {
            if error.is_some() && managed.last_error != error {
                tracing::warn!(
                    pod = uid,
                    error = error.as_deref().unwrap_or(""),
                    "volume refresh failed; keeping previous content"
                );
            }
            managed.last_error = error;
            managed.pod = pod;
        }
    }

    /// The pod as the API server has it now; the known copy when it cannot be read; `None`
    /// when it is gone or replaced by another pod of the same name (the agent cleans up).
    async fn current_pod(&self, uid: &str, known: Pod) -> Option<Pod> {
        let namespace = known
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = known.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
        match api.get_opt(&name).await {
            Ok(Some(pod)) if pod.metadata.uid.as_deref() == Some(uid) => Some(pod),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(pod = uid, error = %api_message(&e), "read pod for refresh");
                Some(known)
            }
        }
    }
}
