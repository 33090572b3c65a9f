//! Carrying out the plan's actions (the kubelet's SyncPod after computePodActions): runtime
//! calls, events, hooks and probes.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Container;

use super::plan::{Action, Observed};
use super::role::{containers, Role};
use super::{Instances, PodWorker};
use crate::lifecycle::kill_container;

impl PodWorker {
    /// What the plan needs to know of each container, from the runtime's instances and the
    /// worker's own records.
    pub(super) fn observe(&self, instances: &Instances) -> HashMap<String, Observed> {
        let spec = self.pod.spec.clone().unwrap_or_default();
        containers(&spec)
            .into_iter()
            .map(|(c, _)| {
                let current = instances.get(&c.name).and_then(|(cur, _)| cur.clone());
                let probe = current
                    .as_ref()
                    .and_then(|cur| self.probes.get(&cur.id))
                    .map(|p| p.snapshot());
                let observed = Observed {
                    current,
                    started: probe.as_ref().is_some_and(|p| p.started),
                    kill: probe.and_then(|p| p.kill),
                    create_failed_at: self.create_failed.get(&c.name).copied(),
                    failed_run: self.start_failed.get(&c.name).map(|f| (f.at, f.restart)),
                    backoff: self.backoff.current(&c.name),
                };
                (c.name.clone(), observed)
            })
            .collect()
    }

    /// Carries out the actions, in order.
    pub(super) async fn execute(&mut self, actions: Vec<Action>) {
        let spec = self.pod.spec.clone().unwrap_or_default();
        let find = |name: &str| {
            containers(&spec)
                .into_iter()
                .find(|(c, _)| c.name == name)
                .map(|(c, role)| (c.clone(), role))
        };
        for action in actions {
            match action {
                Action::Start {
                    name,
                    role,
                    restart,
                    replace,
                    forget_probes,
                    after,
                } => {
                    let Some((c, _)) = find(&name) else { continue };
                    if let Some(run) = after {
                        self.backoff.restart_after(&name, run.started, run.finished);
                    }
                    if let Some(id) = forget_probes {
                        self.probes.remove(&id);
                    }
                    self.start(&c, role, replace.as_deref(), restart).await;
                }
                Action::StartTogether { names } => {
                    let cs: Vec<Container> = names
                        .iter()
                        .filter_map(|n| find(n))
                        .map(|(c, _)| c)
                        .collect();
                    self.start_all(&cs.iter().collect::<Vec<_>>()).await;
                }
                Action::WaitBackOff {
                    name,
                    role,
                    delay,
                    until,
                } => {
                    if let Some((c, _)) = find(&name) {
                        self.wait_backoff(&c, role, delay, until);
                    }
                }
                Action::Kill {
                    name,
                    role,
                    id,
                    grace,
                    message,
                } => {
                    if let Some((c, _)) = find(&name) {
                        self.kill_for_probe(&c, role, &id, grace, message).await;
                    }
                }
                Action::ClearWaiting { name } => {
                    self.waiting.remove(&name);
                }
            }
        }
    }

    /// A liveness/startup failure: Killing event and a graceful kill; the next pass
    /// restarts the container.
    async fn kill_for_probe(
        &mut self,
        c: &Container,
        role: Role,
        id: &str,
        grace: Duration,
        message: String,
    ) {
        self.probes.remove(id);
        kill_container(
            &self.ctx,
            &self.pod,
            Some(c),
            role.listed_as_init(),
            id,
            &self.pod_ip(),
            grace,
            Some(message),
        )
        .await;
        self.notify.notify_one();
    }
}
