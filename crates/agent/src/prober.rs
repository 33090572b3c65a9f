//! Startup, liveness and readiness probes of one running container, each on its own timer,
//! with every timing field. Results land in a shared [`ProbeState`]; the pod worker is woken
//! on every change.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::ctx::Ctx;
use crate::events::EventType;
use crate::handlers::{self, Outcome, Target};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeState {
    pub started: bool,
    pub ready: bool,
    /// Set when liveness (or startup) failed `failureThreshold` times: the container must be
    /// killed and restarted.
    pub kill: Option<KillOrder>,
}

/// A probe's verdict that the container must die.
#[derive(Debug, Clone, PartialEq)]
pub struct KillOrder {
    /// The Killing event's message.
    pub message: String,
    /// The probe's own `terminationGracePeriodSeconds`, which overrides the pod's.
    pub grace: Option<Duration>,
}

pub type Shared = Arc<Mutex<ProbeState>>;

/// Probes of one container instance; aborted on drop.
pub struct Probes {
    pub state: Shared,
    tasks: Vec<AbortHandle>,
}

impl Drop for Probes {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Probes {
    pub fn snapshot(&self) -> ProbeState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Startup,
    Liveness,
    Readiness,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Startup => "Startup",
            Kind::Liveness => "Liveness",
            Kind::Readiness => "Readiness",
        }
    }
}

struct Timing {
    initial_delay: Duration,
    period: Duration,
    timeout: Duration,
    success: u32,
    failure: u32,
}

fn timing(p: &Probe) -> Timing {
    let secs = |v: Option<i32>, d: i32| Duration::from_secs(v.unwrap_or(d).max(0) as u64);
    Timing {
        initial_delay: secs(p.initial_delay_seconds, 0),
        period: secs(p.period_seconds, 10).max(Duration::from_secs(1)),
        timeout: secs(p.timeout_seconds, 1).max(Duration::from_secs(1)),
        success: p.success_threshold.unwrap_or(1).max(1) as u32,
        failure: p.failure_threshold.unwrap_or(3).max(1) as u32,
    }
}

/// Everything a probe task needs, owned.
#[derive(Clone)]
pub struct ProbeTarget {
    pub ctx: Arc<Ctx>,
    pub pod: Pod,
    pub container: Container,
    pub init: bool,
    pub container_id: String,
    pub pod_ip: String,
    pub notify: Arc<Notify>,
}

/// Runs one probe action.
pub async fn run_probe(t: &ProbeTarget, p: &Probe, timeout: Duration) -> Outcome {
    let target = Target {
        runtime: &t.ctx.runtime,
        container_id: &t.container_id,
        container: &t.container,
        pod_ip: &t.pod_ip,
    };
    if let Some(e) = &p.exec {
        handlers::exec(&target, e, timeout).await
    } else if let Some(h) = &p.http_get {
        handlers::http_get(&target, h, timeout, handlers::HttpCheck::Probe).await
    } else if let Some(s) = &p.tcp_socket {
        handlers::tcp(&target, s, timeout).await
    } else if let Some(g) = &p.grpc {
        handlers::grpc(&target, g.port, g.service.as_deref(), timeout).await
    } else {
        Outcome::Failure("probe has no action".into())
    }
}

/// Starts the probes of a container that just started (or was adopted). `was_ready` seeds
/// readiness after an agent restart so a healthy pod does not flap.
pub fn start(t: ProbeTarget, was_ready: bool) -> Probes {
    let c = &t.container;
    let state = Arc::new(Mutex::new(ProbeState {
        started: c.startup_probe.is_none(),
        ready: c.readiness_probe.is_none() || was_ready,
        kill: None,
    }));
    let mut tasks = Vec::new();
    let t = Arc::new(t);
    let s = state.clone();
    let handle = tokio::spawn(async move {
        if let Some(p) = t.container.startup_probe.clone() {
            if !probe_loop(&t, &s, Kind::Startup, &p).await {
                return;
            }
        }
        let live = t.container.liveness_probe.clone();
        let ready = t.container.readiness_probe.clone();
        let l = async {
            if let Some(p) = &live {
                probe_loop(&t, &s, Kind::Liveness, p).await;
            }
        };
        let r = async {
            if let Some(p) = &ready {
                probe_loop(&t, &s, Kind::Readiness, p).await;
            }
        };
        tokio::join!(l, r);
    });
    tasks.push(handle.abort_handle());
    Probes { state, tasks }
}

/// Returns false when the probe decided the container must die.
async fn probe_loop(t: &ProbeTarget, state: &Shared, kind: Kind, p: &Probe) -> bool {
    let tm = timing(p);
    tokio::time::sleep(tm.initial_delay).await;
    let (mut ok_run, mut fail_run) = (0u32, 0u32);
    loop {
        let outcome = run_probe(t, p, tm.timeout).await;
        match outcome {
            Outcome::Success => {
                ok_run += 1;
                fail_run = 0;
                if ok_run >= tm.success {
                    let changed = update(state, |s| match kind {
                        Kind::Startup => set(&mut s.started, true),
                        Kind::Readiness => set(&mut s.ready, true),
                        Kind::Liveness => false,
                    });
                    if changed {
                        t.notify.notify_one();
                    }
                    if kind == Kind::Startup {
                        return true;
                    }
                }
            }
            Outcome::Failure(msg) => {
                ok_run = 0;
                fail_run += 1;
                t.ctx.events.container(
                    &t.pod,
                    &t.container.name,
                    t.init,
                    EventType::Warning,
                    "Unhealthy",
                    format!("{} probe failed: {msg}", kind.name()),
                );
                if fail_run >= tm.failure {
                    match kind {
                        Kind::Readiness => {
                            if update(state, |s| set(&mut s.ready, false)) {
                                t.notify.notify_one();
                            }
                        }
                        Kind::Liveness | Kind::Startup => {
                            let what = if kind == Kind::Liveness {
                                "liveness"
                            } else {
                                "startup"
                            };
                            update(state, |s| {
                                s.kill = Some(KillOrder {
                                    message: format!(
                                        "Container {} failed {what} probe, will be restarted",
                                        t.container.name
                                    ),
                                    grace: p
                                        .termination_grace_period_seconds
                                        .map(|g| Duration::from_secs(g.max(0) as u64)),
                                });
                                true
                            });
                            t.notify.notify_one();
                            return false;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(tm.period).await;
    }
}

fn set(field: &mut bool, v: bool) -> bool {
    let changed = *field != v;
    *field = v;
    changed
}

fn update(state: &Shared, f: impl FnOnce(&mut ProbeState) -> bool) -> bool {
    state.lock().map(|mut s| f(&mut s)).unwrap_or(false)
}
