//! Making a pod's sandbox (kubelet's RunPodSandbox) with as little on the pod's start-up
//! path as the semantics allow: the volumes are written while the sandbox is made, and
//! the network is set up while the first containers are created. Nothing the user runs
//! can tell: no container starts before the network is up, and a container whose env
//! needs the pod IP is prepared only once it is known.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod};
use peapod_network::{PodNetworkRequest, PortMapping, Protocol};
use tokio::task::JoinHandle;

use super::{PodWorker, SandboxRef};
use crate::events::EventType;
use crate::sandbox::sandbox_config;

/// A network set-up under way: the pod IPs (recorded in the sandbox) or the error message.
pub(super) type PendingNetwork = JoinHandle<Result<Vec<String>, String>>;

impl PodWorker {
    /// Makes sure the pod has a ready sandbox; false when it could not be made now (the
    /// reason is an event). A new sandbox's network may still be pending: see
    /// [`PodWorker::network_ready`].
    pub(super) async fn ensure_sandbox(&mut self) -> bool {
        if let Some(sb) = self.sandbox.clone() {
            let id = sb.id.clone();
            let ready = self
                .ctx
                .rt(move |rt| rt.sandbox_status(&id))
                .await
                .map(|s| s.state == peapod_runtime::SandboxState::Ready)
                .unwrap_or(false);
            if ready {
                return true;
            }
            self.ctx.events.pod(
                &self.pod,
                EventType::Normal,
                "SandboxChanged",
                "Pod sandbox changed, it will be killed and re-created.",
            );
            self.probes.clear();
            crate::cleanup::remove_sandbox(&self.ctx, &sb.id, sb.netns.as_deref(), Duration::ZERO)
                .await;
            self.sandbox = None;
        }
        // After a volume failure (a missing Secret, say) the volumes go first, so the
        // retries do not make and remove a sandbox each time.
        if self.volumes_failed && !self.prepare_volumes().await {
            return false;
        }
        let planned = self.ctx.volumes.planned_dirs(&self.pod);
        let sbcfg = match sandbox_config(&self.pod, &self.ctx.cfg, &planned) {
            Ok(c) => c,
            Err(msg) => {
                self.ctx
                    .events
                    .pod(&self.pod, EventType::Warning, "FailedMount", &msg);
                return false;
            }
        };
        let host_network = sbcfg.host_network;
        let t = Instant::now();
        let run = self.ctx.rt(move |rt| rt.run_sandbox(&sbcfg));
        let (volumes_ok, created) = if self.volumes_failed {
            (true, run.await)
        } else {
            let ctx = self.ctx.clone();
            let pod = self.pod.clone();
            let (volumes, created) = tokio::join!(ctx.volumes.prepare(&pod), run);
            (self.volumes_prepared(volumes), created)
        };
        tracing::debug!(pod = %self.uid, "volumes, supervisor and pause up in {:?}", t.elapsed());
        let sb = match created {
            Ok(sb) => sb,
            Err(e) => {
                self.ctx.events.pod(
                    &self.pod,
                    EventType::Warning,
                    "FailedCreatePodSandBox",
                    format!("Failed to create pod sandbox: {e:#}"),
                );
                return false;
            }
        };
        if !volumes_ok {
            crate::cleanup::remove_sandbox(
                &self.ctx,
                &sb.id,
                sb.netns_path.as_deref(),
                Duration::ZERO,
            )
            .await;
            return false;
        }
        self.sandbox = Some(SandboxRef {
            id: sb.id.clone(),
            netns: sb.netns_path.clone(),
            ips: Vec::new(),
            stopped: false,
        });
        if !host_network {
            let Some(netns) = sb.netns_path.clone() else {
                return false;
            };
            let req = PodNetworkRequest {
                pod_namespace: self.pod.metadata.namespace.clone().unwrap_or_default(),
                pod_name: self.pod.metadata.name.clone().unwrap_or_default(),
                pod_uid: self.uid.clone(),
                sandbox_id: sb.id.clone(),
                netns_path: netns,
                port_mappings: port_mappings(&self.pod),
            };
            let ctx = self.ctx.clone();
            let uid = self.uid.clone();
            self.pending_network = Some(tokio::spawn(async move {
                let t = Instant::now();
                let setup = ctx.network.setup(&req).await;
                tracing::debug!(pod = %uid, "network set up in {:?}", t.elapsed());
                let ips: Vec<String> = setup
                    .map_err(|e| e.to_string())?
                    .ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect();
                let (id, ips2) = (req.sandbox_id.clone(), ips.clone());
                if let Err(e) = ctx.rt(move |rt| rt.set_sandbox_ips(&id, &ips2)).await {
                    tracing::warn!("recording pod IPs: {e:#}");
                }
                Ok(ips)
            }));
        }
        true
    }

    /// Sets up the pod's volumes on their own; false (with a FailedMount event) on failure.
    async fn prepare_volumes(&mut self) -> bool {
        let ctx = self.ctx.clone();
        let result = ctx.volumes.prepare(&self.pod).await;
        self.volumes_prepared(result)
    }

    fn volumes_prepared<T>(&mut self, result: Result<T, peapod_volumes::VolumeError>) -> bool {
        match result {
            Ok(_) => true,
            Err(e) => {
                self.volumes_failed = true;
                self.ctx
                    .events
                    .pod(&self.pod, EventType::Warning, &e.reason, &e.message);
                false
            }
        }
    }

    /// Waits for the network of a new sandbox, if it is still being set up. False when the
    /// pod has no sandbox any more: the set-up failed (an event says why) and the sandbox,
    /// with whatever was created in it, is removed; the next pass makes a new one.
    pub(super) async fn network_ready(&mut self) -> bool {
        let Some(pending) = self.pending_network.take() else {
            return self.sandbox.is_some();
        };
        let result = pending
            .await
            .unwrap_or_else(|e| Err(format!("network set-up task failed: {e}")));
        let Some(sb) = self.sandbox.as_mut() else {
            return false;
        };
        match result {
            Ok(ips) => {
                sb.ips = ips;
                true
            }
            Err(e) => {
                let sb = sb.clone();
                self.ctx.events.pod(
                    &self.pod,
                    EventType::Warning,
                    "FailedCreatePodSandBox",
                    format!(
                        "Failed to create pod sandbox: failed to set up network for sandbox {:?}: {e}",
                        sb.id
                    ),
                );
                crate::cleanup::remove_sandbox(
                    &self.ctx,
                    &sb.id,
                    sb.netns.as_deref(),
                    Duration::ZERO,
                )
                .await;
                self.sandbox = None;
                false
            }
        }
    }
}

/// Whether the container's env is built from the pod IP (downward API `status.podIP(s)`),
/// which is known only once the network is up.
pub(super) fn env_needs_pod_ip(c: &Container) -> bool {
    c.env.iter().flatten().any(|e| {
        e.value_from
            .as_ref()
            .and_then(|v| v.field_ref.as_ref())
            .is_some_and(|f| matches!(f.field_path.as_str(), "status.podIP" | "status.podIPs"))
    })
}

fn port_mappings(pod: &Pod) -> Vec<PortMapping> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let host_port = u16::try_from(p.host_port?).ok().filter(|p| *p > 0)?;
            Some(PortMapping {
                host_port,
                container_port: u16::try_from(p.container_port).ok()?,
                protocol: Protocol::from_k8s(p.protocol.as_deref().unwrap_or("")).ok()?,
                host_ip: p.host_ip.as_deref().and_then(|ip| ip.parse().ok()),
            })
        })
        .collect()
}
