//! Deciding what a pod's containers need next (the kubelet's computePodActions), apart from
//! doing it: a pure function of the spec, what the runtime reports, probe verdicts, the
//! restart back-off and the clock. The worker carries the actions out
//! (`worker/execute.rs`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, PodSpec};
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};

use super::role::{containers, restart_policy, Role};
use crate::backoff::{decide, Decision};
use crate::prober::KillOrder;

/// A container whose creation failed is retried this often (the kubelet's pod worker
/// back-off), not on every sync.
pub(super) const CREATE_RETRY: chrono::Duration = chrono::Duration::seconds(10);

/// What is known of one container when deciding.
#[derive(Debug, Clone, Default)]
pub(super) struct Observed {
    /// Its newest instance in the runtime.
    pub current: Option<RtStatus>,
    /// The current instance's startup probe has passed.
    pub started: bool,
    /// A liveness (or startup) probe wants the current instance killed.
    pub kill: Option<KillOrder>,
    /// When creating it last failed (CreateContainerError).
    pub create_failed_at: Option<DateTime<Utc>>,
    /// Its last attempt failed to run (RunContainerError): when, and as which restart.
    pub failed_run: Option<(DateTime<Utc>, u32)>,
    /// The restart back-off its next restart waits (none before the first restart).
    pub backoff: Option<Duration>,
}

/// The run a restart's back-off was judged on; the executor records the restart on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Run {
    pub started: Option<DateTime<Utc>>,
    pub finished: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// Create and start an instance numbered `restart`; `replace` (a never-started
    /// instance) is removed first, `forget_probes` is the ended instance whose probes go.
    Start {
        name: String,
        role: Role,
        restart: u32,
        replace: Option<String>,
        forget_probes: Option<String>,
        after: Option<Run>,
    },
    /// The first instances of several app containers: created side by side, started in order.
    StartTogether { names: Vec<String> },
    /// Waits in CrashLoopBackOff until `until`.
    WaitBackOff {
        name: String,
        role: Role,
        delay: Duration,
        until: DateTime<Utc>,
    },
    /// A probe failed: kill the instance; a later pass restarts it per policy.
    Kill {
        name: String,
        role: Role,
        id: String,
        grace: Duration,
        message: String,
    },
    /// An app container that ended for good: nothing to wait for.
    ClearWaiting { name: String },
}

/// The actions that bring the pod's containers toward the spec, in order.
pub(super) fn plan(
    spec: &PodSpec,
    observed: &HashMap<String, Observed>,
    now: DateTime<Utc>,
) -> Vec<Action> {
    let p = Planner {
        spec,
        observed,
        now,
        policy: restart_policy(spec),
        none: Observed::default(),
    };
    let mut actions = Vec::new();
    if p.init_containers(&mut actions) {
        p.app_containers(&mut actions);
    }
    actions
}

/// Whether the pod has been active longer than `activeDeadlineSeconds`.
pub(super) fn deadline_exceeded(
    spec: &PodSpec,
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    match (spec.active_deadline_seconds, start) {
        (Some(deadline), Some(start)) => now >= start + chrono::Duration::seconds(deadline),
        _ => false,
    }
}

/// Whether a container whose process failed to start is tried again: not under
/// `restartPolicy: Never` (sidecars always are).
pub(super) fn retries_failed_runs(role: Role, policy: &str) -> bool {
    role == Role::Sidecar || policy != "Never"
}

/// The order containers are stopped in: app containers together first, then init
/// containers and sidecars, which serve the apps to the end.
pub(super) fn stop_order(spec: &PodSpec) -> [Vec<(&Container, Role)>; 2] {
    let (apps, init) = containers(spec)
        .into_iter()
        .partition(|(_, role)| *role == Role::App);
    [apps, init]
}

struct Planner<'a> {
    spec: &'a PodSpec,
    observed: &'a HashMap<String, Observed>,
    now: DateTime<Utc>,
    policy: &'a str,
    none: Observed,
}

impl Planner<'_> {
    fn observed(&self, name: &str) -> &Observed {
        self.observed.get(name).unwrap_or(&self.none)
    }

    /// Init containers one at a time, in order, each to completion; a sidecar only has to
    /// be started. True when all are done and the app containers may run.
    fn init_containers(&self, out: &mut Vec<Action>) -> bool {
        for (c, role) in containers(self.spec) {
            if role == Role::App {
                break;
            }
            let o = self.observed(&c.name);
            let Some(cur) = &o.current else {
                self.start_or_retry(c, role, o, out);
                return false;
            };
            match cur.state {
                // A sidecar, too, must have started before the next init container.
                RtState::Created => {
                    self.start_or_retry(c, role, o, out);
                    return false;
                }
                RtState::Running => {
                    if self.kill(c, role, o, out) || !(role == Role::Sidecar && o.started) {
                        return false;
                    }
                }
                RtState::Exited | RtState::Unknown => {
                    if role == Role::Init && cur.exit_code == Some(0) {
                        continue;
                    }
                    // An init container failed under restartPolicy Never: the pod fails.
                    if !(role == Role::Init && self.policy == "Never") {
                        self.restart(c, role, o, cur, out);
                    }
                    return false;
                }
            }
        }
        true
    }

    /// App containers per restartPolicy; those that never ran start together.
    fn app_containers(&self, out: &mut Vec<Action>) {
        let fresh: Vec<String> = self
            .spec
            .containers
            .iter()
            .filter(|c| {
                let o = self.observed(&c.name);
                o.current.is_none() && !self.create_retry_pending(o) && o.failed_run.is_none()
            })
            .map(|c| c.name.clone())
            .collect();
        let together = fresh.len() >= 2;
        if together {
            out.push(Action::StartTogether {
                names: fresh.clone(),
            });
        }
        for c in &self.spec.containers {
            if together && fresh.contains(&c.name) {
                continue;
            }
            let o = self.observed(&c.name);
            match o.current.as_ref() {
                None => self.start_or_retry(c, Role::App, o, out),
                Some(cur) => match cur.state {
                    RtState::Created => self.start_or_retry(c, Role::App, o, out),
                    RtState::Running => {
                        self.kill(c, Role::App, o, out);
                    }
                    RtState::Exited | RtState::Unknown => {
                        let failed = cur.exit_code != Some(0);
                        if self.policy == "Always" || (self.policy == "OnFailure" && failed) {
                            self.restart(c, Role::App, o, cur, out);
                        } else {
                            out.push(Action::ClearWaiting {
                                name: c.name.clone(),
                            });
                        }
                    }
                },
            }
        }
    }

    /// Creating the container failed lately: it keeps showing CreateContainerError for now.
    fn create_retry_pending(&self, o: &Observed) -> bool {
        o.create_failed_at
            .is_some_and(|at| self.now < at + CREATE_RETRY)
    }

    /// A container with no running instance: started at once the first time; after an
    /// attempt that failed to run, only once the restart back-off allows.
    fn start_or_retry(&self, c: &Container, role: Role, o: &Observed, out: &mut Vec<Action>) {
        if self.create_retry_pending(o) {
            return;
        }
        let cur = o.current.as_ref();
        let Some((failed_at, failed_restart)) = o.failed_run else {
            // Created but never started (agent stopped in between): redo it.
            let restart = cur.map_or(0, |c| c.restart_count);
            out.push(start(c, role, restart, cur, None, None));
            return;
        };
        if !retries_failed_runs(role, self.policy) {
            return;
        }
        let run = Run {
            started: None,
            finished: failed_at,
        };
        // Each attempt counts as a restart: each is a new container for the kubelet.
        let restart = cur.map_or(failed_restart, |c| c.restart_count) + 1;
        self.after_backoff(c, role, o, run, out, |after| {
            start(c, role, restart, cur, None, Some(after))
        });
    }

    /// A container whose instance ended restarts once its back-off allows.
    fn restart(
        &self,
        c: &Container,
        role: Role,
        o: &Observed,
        cur: &RtStatus,
        out: &mut Vec<Action>,
    ) {
        if self.create_retry_pending(o) {
            return;
        }
        // The back-off runs from the end of the last attempt: a failed retry, else the
        // instance's exit (or, for one that never reported an end, its creation).
        let run = match o.failed_run {
            Some((at, _)) => Run {
                started: None,
                finished: at,
            },
            None => Run {
                started: cur.started_at,
                finished: cur.finished_at.or(cur.started_at).unwrap_or(cur.created_at),
            },
        };
        self.after_backoff(c, role, o, run, out, |after| {
            // An instance that never ran is replaced; one that ran stays as lastState.
            let replace = cur.started_at.is_none().then_some(cur);
            start(
                c,
                role,
                cur.restart_count + 1,
                replace,
                Some(cur),
                Some(after),
            )
        });
    }

    fn after_backoff(
        &self,
        c: &Container,
        role: Role,
        o: &Observed,
        run: Run,
        out: &mut Vec<Action>,
        start: impl FnOnce(Run) -> Action,
    ) {
        out.push(
            match decide(o.backoff, run.started, run.finished, self.now) {
                Decision::RestartNow => start(run),
                Decision::Wait { delay, until } => Action::WaitBackOff {
                    name: c.name.clone(),
                    role,
                    delay,
                    until,
                },
            },
        );
    }

    /// A probe's kill order for the running instance; true when there is one.
    fn kill(&self, c: &Container, role: Role, o: &Observed, out: &mut Vec<Action>) -> bool {
        let (Some(cur), Some(order)) = (&o.current, &o.kill) else {
            return false;
        };
        let pod_grace = self.spec.termination_grace_period_seconds.unwrap_or(30);
        out.push(Action::Kill {
            name: c.name.clone(),
            role,
            id: cur.id.clone(),
            grace: order
                .grace
                .unwrap_or(Duration::from_secs(pod_grace.max(0) as u64)),
            message: order.message.clone(),
        });
        true
    }
}

fn start(
    c: &Container,
    role: Role,
    restart: u32,
    replace: Option<&RtStatus>,
    ended: Option<&RtStatus>,
    after: Option<Run>,
) -> Action {
    Action::Start {
        name: c.name.clone(),
        role,
        restart,
        replace: replace.map(|r| r.id.clone()),
        forget_probes: ended.map(|r| r.id.clone()),
        after,
    }
}

#[cfg(test)]
mod tests;
