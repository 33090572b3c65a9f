//! Taking over a pod's sandbox and containers after an agent restart.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::PodStatus;
use peapod_runtime::ContainerState as RtState;

use super::role::containers;
use super::state::Lifecycle;
use super::{Instances, PodWorker, SandboxRef};
use crate::admission;
use crate::images::{display_name, image_id};

impl PodWorker {
    /// After an agent restart: take over the pod's live sandbox and running containers (or,
    /// for a finished pod, its stopped sandbox, which holds the containers' logs).
    pub(super) async fn adopt(&mut self) {
        let mut found = self.pod_sandboxes().await;
        // Ready first, then newest.
        found.sort_by(|a, b| {
            let ready =
                |s: &peapod_runtime::SandboxStatus| s.state == peapod_runtime::SandboxState::Ready;
            ready(b)
                .cmp(&ready(a))
                .then(b.created_at.cmp(&a.created_at))
        });
        let status = self.pod.status.clone().unwrap_or_default();
        let phase = status.phase.clone().unwrap_or_default();
        let terminal = phase == "Succeeded" || phase == "Failed";
        if terminal {
            self.lifecycle = Lifecycle::Finished { terminal: None };
        }
        if status.start_time.is_some() {
            // We admitted it before the restart.
            if !terminal {
                self.lifecycle = Lifecycle::Running;
            }
            self.start_time = status.start_time.as_ref().map(crate::timeconv::from_time);
            // A finished pod no longer holds node resources.
            if let (Some(spec), false) = (&self.pod.spec, terminal) {
                if let Ok(mut a) = self.ctx.admitted.lock() {
                    a.insert(self.uid.clone(), admission::pod_request(spec));
                }
            }
        }
        for sb in found {
            let ready = sb.state == peapod_runtime::SandboxState::Ready;
            if self.sandbox.is_none() && (ready || terminal) {
                self.sandbox = Some(SandboxRef {
                    id: sb.id.clone(),
                    netns: sb.netns_path.clone(),
                    ips: sb.ips.clone(),
                    stopped: !ready,
                });
            } else {
                crate::cleanup::remove_sandbox(
                    &self.ctx,
                    &sb.id,
                    sb.netns_path.as_deref(),
                    Duration::ZERO,
                )
                .await;
            }
        }
        if self.sandbox.is_none() {
            return;
        }
        self.last_status = self.pod.status.clone();
        let instances = self.instances().await;
        self.adopt_images(&status, &instances);
        let spec = self.pod.spec.clone().unwrap_or_default();
        for (c, _) in containers(&spec) {
            if let Some((Some(cur), _)) = instances.get(&c.name) {
                // A crash-looping container keeps waiting out its back-off.
                self.backoff.seed(&c.name, cur.restart_count);
            }
        }
        if terminal {
            self.publish_info(&instances);
            if self.sandbox.as_ref().is_some_and(|s| !s.stopped) {
                // It finished before the restart, but its sandbox was not stopped yet.
                self.finish().await;
                self.write_status().await;
            }
            return;
        }
        let was_ready: HashMap<String, bool> = status
            .container_statuses
            .iter()
            .flatten()
            .chain(status.init_container_statuses.iter().flatten())
            .filter_map(|s| s.container_id.clone().map(|id| (id, s.ready)))
            .collect();
        for (c, role) in containers(&spec) {
            if let Some((Some(cur), _)) = instances.get(&c.name) {
                if cur.state == RtState::Running {
                    let ready = was_ready
                        .get(&crate::status::container_id(&cur.id))
                        .copied()
                        .unwrap_or(false);
                    self.start_probes(c, role, &cur.id, ready);
                }
            }
        }
        self.publish_info(&instances);
    }

    /// Image and image id of adopted containers: what the last status said for the same
    /// instance, else the local image the spec names.
    pub(super) fn adopt_images(&mut self, status: &PodStatus, instances: &Instances) {
        let spec = self.pod.spec.clone().unwrap_or_default();
        let reported: HashMap<&str, (&str, &str)> = status
            .container_statuses
            .iter()
            .flatten()
            .chain(status.init_container_statuses.iter().flatten())
            .filter(|s| !s.image_id.is_empty())
            .filter_map(|s| {
                s.container_id
                    .as_deref()
                    .map(|id| (id, (s.image.as_str(), s.image_id.as_str())))
            })
            .collect();
        for (c, _) in containers(&spec) {
            let Some((Some(cur), _)) = instances.get(&c.name) else {
                continue;
            };
            let id = crate::status::container_id(&cur.id);
            if let Some((image, image_id)) = reported.get(id.as_str()) {
                self.images
                    .insert(c.name.clone(), (image.to_string(), image_id.to_string()));
                continue;
            }
            let image = c.image.clone().unwrap_or_default();
            if let Ok(Some(rec)) = self.ctx.images.resolve(&image) {
                self.images.insert(
                    c.name.clone(),
                    (display_name(&image, Some(&rec)), image_id(&rec)),
                );
            }
        }
    }
}
