//! Stopping a pod: a finished pod's containers and sandbox, and everything of a pod that is
//! deleted or gone from the API.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Preconditions};
use kube::Api;
use peapod_runtime::ContainerState as RtState;

use super::plan::stop_order;
use super::role::containers;
use super::PodWorker;
use crate::lifecycle::kill_container;

impl PodWorker {
    /// Stops every running container: app containers first, then init/sidecars.
    pub(super) async fn kill_all(&mut self, grace: Duration, message: Option<&str>) {
        let instances = self.instances().await;
        let spec = self.pod.spec.clone().unwrap_or_default();
        let pod_ip = self.pod_ip();
        for group in stop_order(&spec) {
            let mut jobs = Vec::new();
            for (c, role) in group {
                if let Some((Some(cur), _)) = instances.get(&c.name) {
                    if matches!(cur.state, RtState::Running | RtState::Created) {
                        self.probes.remove(&cur.id);
                        let msg = message.map(|m| format!("{m} {}", c.name));
                        let (ctx, pod, c, id, ip) = (
                            self.ctx.clone(),
                            self.pod.clone(),
                            c.clone(),
                            cur.id.clone(),
                            pod_ip.clone(),
                        );
                        let init = role.listed_as_init();
                        jobs.push(async move {
                            kill_container(&ctx, &pod, Some(&c), init, &id, &ip, grace, msg).await
                        });
                    }
                }
            }
            futures::future::join_all(jobs).await;
        }
    }

    /// The pod finished: nothing restarts. Stop what still runs (sidecars), then kubelet-like
    /// kill the sandbox: pause and network go (the IP is released), containers' statuses and
    /// logs stay for `kubectl logs` until the pod is deleted.
    pub(super) async fn finish(&mut self) {
        self.lifecycle.finish();
        self.kill_all(self.spec_grace(), Some("Stopping container"))
            .await;
        self.probes.clear();
        self.release_admission();
        let Some(sb) = self.sandbox.as_mut().filter(|s| !s.stopped) else {
            return;
        };
        let (id, netns) = (sb.id.clone(), sb.netns.clone());
        if crate::cleanup::stop_sandbox(&self.ctx, &id, netns.as_deref(), Duration::ZERO).await {
            sb.stopped = true;
        }
        let instances = self.instances().await;
        self.publish_info(&instances);
    }

    /// The node's admission stops counting the pod.
    pub(super) fn release_admission(&self) {
        if let Ok(mut a) = self.ctx.admitted.lock() {
            a.remove(&self.uid);
        }
    }

    /// Stops everything the pod has on this node and removes it.
    pub(super) async fn teardown(&mut self, grace: Duration) {
        self.kill_all(grace, Some("Stopping container")).await;
        // Nothing runs any more: the node's resources are free before the cleanup ends.
        self.release_admission();
        self.probes.clear();
        self.sandbox = None;
        // Ours, and any we did not know about (a crash between create and record).
        for sb in self.pod_sandboxes().await {
            crate::cleanup::remove_sandbox(
                &self.ctx,
                &sb.id,
                sb.netns_path.as_deref(),
                Duration::ZERO,
            )
            .await;
        }
        if let Err(e) = self.ctx.volumes.cleanup(&self.uid).await {
            tracing::warn!("cleaning volumes of pod {}: {e:#}", self.uid);
        }
        let spec = self.pod.spec.clone().unwrap_or_default();
        for (c, _) in containers(&spec) {
            let _ = self
                .ctx
                .images
                .release(&format!("pod-{}-{}", self.uid, c.name));
        }
        let (ns, name, uid) = (
            self.pod.metadata.namespace.clone().unwrap_or_default(),
            self.pod.metadata.name.clone().unwrap_or_default(),
            self.uid.clone(),
        );
        let _ = self
            .ctx
            .rt(move |rt| rt.remove_pod_logs(&ns, &name, &uid))
            .await;
        self.ctx.forget_pod(&self.uid);
    }

    /// Graceful deletion: stop, clean up, then remove the API object (grace 0, same uid).
    pub(super) async fn terminate_and_delete(&mut self) {
        let grace = self.spec_grace();
        self.teardown(grace).await;
        let api: Api<Pod> = Api::namespaced(
            self.ctx.client.clone(),
            self.pod.metadata.namespace.as_deref().unwrap_or("default"),
        );
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(self.uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        let name = self.pod.metadata.name.clone().unwrap_or_default();
        match api.delete(&name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
            Err(e) => tracing::warn!("deleting pod {name}: {e}"),
        }
    }
}
