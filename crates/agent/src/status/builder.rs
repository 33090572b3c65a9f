//! PodView → PodStatus: container states, phase, conditions.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, PodCondition, PodIP, PodStatus,
};
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};

use super::qos::qos_class;
use super::view::{ContainerView, PodView};

pub fn container_id(id: &str) -> String {
    format!("peapod://{id}")
}

fn terminated(c: &RtStatus) -> ContainerState {
    let unknown = c.state == RtState::Unknown || c.state == RtState::Running;
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: if unknown {
                137
            } else {
                c.exit_code.unwrap_or(0)
            },
            reason: Some(if unknown {
                "ContainerStatusUnknown".to_string()
            } else {
                c.reason.clone().unwrap_or_else(|| "Error".into())
            }),
            message: if unknown {
                Some("The container could not be located when the pod was terminated".into())
            } else {
                c.message.clone()
            },
            started_at: c.started_at.map(peapod_apimachinery::timeconv::time),
            finished_at: c.finished_at.map(peapod_apimachinery::timeconv::time),
            container_id: (!c.id.is_empty()).then(|| container_id(&c.id)),
            signal: None,
        }),
        ..Default::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..Default::default()
    }
}

/// Kubernetes' state, lastState and whether the container counts as "restarting".
fn states(cv: &ContainerView, default_waiting: &str) -> (ContainerState, Option<ContainerState>) {
    let last_prev = || cv.previous.as_ref().map(terminated);
    let pending = |cv: &ContainerView| match &cv.waiting {
        Some(w) => waiting(&w.reason, w.message.clone()),
        None => waiting(default_waiting, None),
    };
    match &cv.current {
        None => (pending(cv), None),
        Some(c) => match c.state {
            RtState::Created => (pending(cv), last_prev()),
            RtState::Running => (
                ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: c.started_at.map(peapod_apimachinery::timeconv::time),
                    }),
                    ..Default::default()
                },
                last_prev(),
            ),
            RtState::Exited | RtState::Unknown => match &cv.waiting {
                Some(w) => (waiting(&w.reason, w.message.clone()), Some(terminated(c))),
                None => (terminated(c), last_prev()),
            },
        },
    }
}

fn api_status(cv: &ContainerView, default_waiting: &str) -> ContainerStatus {
    let (state, last) = states(cv, default_waiting);
    let running = state.running.is_some();
    ContainerStatus {
        name: cv.name.clone(),
        image: cv.image.clone(),
        image_id: cv.image_id.clone(),
        // Empty when the runtime kept no instance (a process that could not be started).
        container_id: cv
            .current
            .as_ref()
            .filter(|c| !c.id.is_empty())
            .map(|c| container_id(&c.id)),
        ready: running && cv.ready && cv.started,
        started: Some(running && cv.started),
        restart_count: cv
            .current
            .as_ref()
            .map(|c| i32::try_from(c.restart_count).unwrap_or(i32::MAX))
            .unwrap_or(0),
        state: Some(state),
        last_state: Some(last.unwrap_or_default()),
        ..Default::default()
    }
}

/// A regular init container finished successfully, or a sidecar has started.
pub fn init_done(cv: &ContainerView) -> bool {
    match &cv.current {
        Some(c) if cv.sidecar => c.state == RtState::Running && cv.started,
        Some(c) => c.state == RtState::Exited && c.exit_code == Some(0),
        None => false,
    }
}

fn init_failed_for_good(cv: &ContainerView, restart_policy: &str) -> bool {
    !cv.sidecar
        && restart_policy == "Never"
        && cv.current.as_ref().is_some_and(|c| {
            matches!(c.state, RtState::Exited | RtState::Unknown) && c.exit_code != Some(0)
        })
}

/// kubelet's phase rules over the app containers' statuses.
fn phase(view: &PodView<'_>, statuses: &[ContainerStatus], restart_policy: &str) -> &'static str {
    if let Some(t) = &view.terminal {
        return t.phase;
    }
    if view
        .init
        .iter()
        .any(|cv| init_failed_for_good(cv, restart_policy))
    {
        return "Failed";
    }
    let initialized = view.init.iter().all(|cv| cv.sidecar || init_done(cv));
    if !initialized {
        return "Pending";
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in statuses {
        let Some(state) = &s.state else { continue };
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = &state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if s
            .last_state
            .as_ref()
            .is_some_and(|l| l.terminated.is_some())
        {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        if restart_policy == "Always" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if restart_policy == "Never" {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

fn condition(
    previous: &[PodCondition],
    kind: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: DateTime<Utc>,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let transition = previous
        .iter()
        .find(|c| c.type_ == kind && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or(peapod_apimachinery::timeconv::time(now));
    PodCondition {
        type_: kind.to_string(),
        status: status.to_string(),
        reason: if ok { None } else { reason.map(str::to_string) },
        message: if ok { None } else { message },
        last_transition_time: Some(transition),
        last_probe_time: None,
        observed_generation: None,
    }
}

/// Go's `%s` of a string slice: `[a b]`.
fn go_list(names: &[&str]) -> String {
    format!("[{}]", names.join(" "))
}

pub fn build_status(view: &PodView<'_>) -> PodStatus {
    let pod = view.pod;
    let spec = pod.spec.clone().unwrap_or_default();
    let restart_policy = spec.restart_policy.as_deref().unwrap_or("Always");
    let has_init = !view.init.is_empty();
    let default_waiting = if has_init {
        "PodInitializing"
    } else {
        "ContainerCreating"
    };
    let init_statuses: Vec<ContainerStatus> = view
        .init
        .iter()
        .map(|cv| {
            let mut s = api_status(cv, "PodInitializing");
            // A regular init container that completed counts as ready, as the kubelet
            // reports it (its job is done); a sidecar is ready by its probe.
            if !cv.sidecar && init_done(cv) {
                s.ready = true;
            }
            s
        })
        .collect();
    let statuses: Vec<ContainerStatus> = view
        .containers
        .iter()
        .map(|cv| api_status(cv, default_waiting))
        .collect();
    let phase = phase(view, &statuses, restart_policy);
    // A pod the node refused never had a container: like the kubelet's rejection status, it
    // carries none, so `kubectl get` prints the reason (OutOfcpu, NodePorts, ...).
    let rejected = view.terminal.is_some()
        && view
            .init
            .iter()
            .chain(&view.containers)
            .all(|cv| cv.current.is_none() && cv.previous.is_none());

    let previous = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let now = view.now;
    let incomplete_init: Vec<&str> = view
        .init
        .iter()
        .filter(|cv| !init_done(cv))
        .map(|cv| cv.name.as_str())
        .collect();
    let initialized = incomplete_init.is_empty() || phase == "Succeeded";
    let unready: Vec<&str> = statuses
        .iter()
        .chain(
            init_statuses
                .iter()
                .zip(&view.init)
                .filter(|(_, cv)| cv.sidecar)
                .map(|(s, _)| s),
        )
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let completed = phase == "Succeeded";
    let containers_ready = unready.is_empty() && !completed && phase != "Failed";
    let (ready_reason, ready_message) = if completed {
        ("PodCompleted", None)
    } else {
        (
            "ContainersNotReady",
            Some(format!(
                "containers with unready status: {}",
                go_list(&unready)
            )),
        )
    };
    let gates_ok = spec.readiness_gates.iter().flatten().all(|g| {
        previous
            .iter()
            .any(|c| c.type_ == g.condition_type && c.status == "True")
    });
    let mut conditions = vec![
        condition(
            &previous,
            "PodReadyToStartContainers",
            view.sandbox_ready,
            None,
            None,
            now,
        ),
        condition(
            &previous,
            "Initialized",
            initialized,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: {}",
                go_list(&incomplete_init)
            )),
            now,
        ),
        condition(
            &previous,
            "Ready",
            containers_ready && gates_ok,
            Some(if containers_ready {
                "ReadinessGatesNotReady"
            } else {
                ready_reason
            }),
            if containers_ready {
                Some("corresponding condition of pod readiness gate is not true".into())
            } else {
                ready_message.clone()
            },
            now,
        ),
        condition(
            &previous,
            "ContainersReady",
            containers_ready,
            Some(ready_reason),
            ready_message,
            now,
        ),
    ];
    match previous.iter().find(|c| c.type_ == "PodScheduled") {
        Some(c) => conditions.push(c.clone()),
        None => conditions.push(condition(&previous, "PodScheduled", true, None, None, now)),
    }
    // Conditions owned by others (readiness gates, DisruptionTarget...) are kept.
    const OURS: [&str; 5] = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ];
    conditions.extend(
        previous
            .iter()
            .filter(|c| !OURS.contains(&c.type_.as_str()))
            .cloned(),
    );

    let old = pod.status.clone().unwrap_or_default();
    PodStatus {
        phase: Some(phase.to_string()),
        conditions: Some(conditions),
        host_ip: (!view.host_ip.is_empty()).then(|| view.host_ip.clone()),
        host_ips: (!view.host_ip.is_empty()).then(|| {
            vec![HostIP {
                ip: view.host_ip.clone(),
            }]
        }),
        pod_ip: view.pod_ips.first().cloned(),
        pod_ips: (!view.pod_ips.is_empty()).then(|| {
            view.pod_ips
                .iter()
                .map(|ip| PodIP { ip: ip.clone() })
                .collect()
        }),
        start_time: view
            .start_time
            .map(peapod_apimachinery::timeconv::time)
            .or(old.start_time),
        init_container_statuses: (has_init && !rejected).then_some(init_statuses),
        container_statuses: (!rejected).then_some(statuses),
        qos_class: old.qos_class.or_else(|| Some(qos_class(&spec).to_string())),
        reason: view.terminal.as_ref().map(|t| t.reason.clone()),
        message: view.terminal.as_ref().map(|t| t.message.clone()),
        nominated_node_name: old.nominated_node_name,
        ..Default::default()
    }
}
