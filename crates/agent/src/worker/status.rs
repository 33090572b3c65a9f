//! The pod status the worker writes: its containers as the runtime and the worker's own
//! records see them, built by `crate::status` and patched when it changed.

use chrono::Utc;
use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodStatus};
use kube::api::{Patch, PatchParams};
use kube::Api;
use peapod_runtime::ContainerState as RtState;
use serde_json::json;

use super::plan::retries_failed_runs;
use super::role::{containers, restart_policy, Role};
use super::{Instances, PodWorker};
use crate::images::display_name;
use crate::status::{build_status, ContainerView, PodView};

impl PodWorker {
    fn views(&self, instances: &Instances) -> (Vec<ContainerView>, Vec<ContainerView>) {
        let spec = self.pod.spec.clone().unwrap_or_default();
        let policy = restart_policy(&spec);
        let mk = |c: &Container, role: Role| -> ContainerView {
            let (mut cur, prev) = instances.get(&c.name).cloned().unwrap_or_default();
            // A container whose process failed to start shows that attempt as terminated
            // (StartError): the last state while it waits for the next attempt, the state
            // under restartPolicy Never, where it is done.
            let failed = self.start_failed.get(&c.name);
            let given_up = failed.filter(|_| !retries_failed_runs(role, policy));
            if let Some(f) = failed.filter(|_| cur.is_none() || given_up.is_some()) {
                cur = Some(f.as_exited(&c.name));
            }
            let probe = cur
                .as_ref()
                .and_then(|x| self.probes.get(&x.id))
                .map(|p| p.snapshot());
            let (image, image_id) = self.images.get(&c.name).cloned().unwrap_or_else(|| {
                let img = c.image.clone().unwrap_or_default();
                (display_name(&img, None), String::new())
            });
            // A running/created container's waiting reason is stale; an exited one keeps it
            // only while it is going to restart.
            let waiting = match cur.as_ref().map(|c| c.state) {
                _ if given_up.is_some() => None,
                Some(RtState::Running) => None,
                _ => self.waiting.get(&c.name).cloned(),
            };
            ContainerView {
                name: c.name.clone(),
                image,
                image_id,
                current: cur,
                previous: prev,
                waiting,
                ready: probe
                    .as_ref()
                    .map(|p| p.ready)
                    .unwrap_or(c.readiness_probe.is_none()),
                started: probe
                    .as_ref()
                    .map(|p| p.started)
                    .unwrap_or(c.startup_probe.is_none()),
                sidecar: role == Role::Sidecar,
            }
        };
        let (init, apps) = containers(&spec)
            .into_iter()
            .partition::<Vec<_>, _>(|(_, role)| role.listed_as_init());
        let init = init.into_iter().map(|(c, role)| mk(c, role)).collect();
        let apps = apps.into_iter().map(|(c, role)| mk(c, role)).collect();
        (init, apps)
    }

    /// Writes the pod status; a pod that just finished is then stopped and its status
    /// written once more (PodReadyToStartContainers turns False).
    pub(super) async fn publish_status(&mut self) {
        let phase = self.write_status().await;
        if (phase == "Succeeded" || phase == "Failed") && !self.lifecycle.finished() {
            self.finish().await;
            self.write_status().await;
        }
    }

    /// Builds and writes the status (unless unchanged); returns its phase.
    pub(super) async fn write_status(&mut self) -> String {
        let instances = self.instances().await;
        let (init, containers) = self.views(&instances);
        let mut pod = self.pod.clone();
        if let Some(last) = &self.last_status {
            // Transition times come from what we wrote last (the watch may lag behind).
            let mut st = pod.status.clone().unwrap_or_default();
            st.conditions = merge_conditions(st.conditions.take(), last.conditions.clone());
            pod.status = Some(st);
        }
        let view = PodView {
            pod: &pod,
            init,
            containers,
            sandbox_ready: self.live_sandbox().is_some()
                || self.host_network() && self.lifecycle.admitted() && !self.lifecycle.finished(),
            pod_ips: self.pod_ips(),
            host_ip: self.ctx.host_ip(),
            start_time: self.start_time,
            terminal: self.lifecycle.terminal().cloned(),
            now: Utc::now(),
        };
        let status = build_status(&view);
        let phase = status.phase.clone().unwrap_or_default();
        if self
            .last_status
            .as_ref()
            .is_some_and(|l| same_status(l, &status))
        {
            return phase;
        }
        let api: Api<Pod> = Api::namespaced(
            self.ctx.client.clone(),
            self.pod.metadata.namespace.as_deref().unwrap_or("default"),
        );
        let name = self.pod.metadata.name.clone().unwrap_or_default();
        let patch = json!({ "status": status });
        tracing::debug!(pod = %self.uid, "writing status: {phase}");
        match api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                self.last_status = Some(status);
                self.status_unsent = false;
            }
            Err(e) => {
                tracing::debug!("writing status of pod {name}: {e}");
                self.status_unsent = true;
            }
        }
        phase
    }
}

/// Conditions of the watched object, with our last written ones taking precedence.
fn merge_conditions(
    watched: Option<Vec<PodCondition>>,
    ours: Option<Vec<PodCondition>>,
) -> Option<Vec<PodCondition>> {
    let mut out = ours.unwrap_or_default();
    for c in watched.unwrap_or_default() {
        if !out.iter().any(|o| o.type_ == c.type_) {
            out.push(c);
        }
    }
    Some(out)
}

fn same_status(a: &PodStatus, b: &PodStatus) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}
