//! Pod rows: readiness, the aggregate status string, restarts and placement.
//!
//! The status string follows the decision order of Kubernetes' pod printer:
//! phase/reason, scheduling gates, init containers (sidecars count as started),
//! regular containers scanned last-to-first, then deletion.

use crate::access::{at, bool_at, has, int_at, list_at, name, or_none, str_at, time_at};
use crate::column::{col, wide, Column, AGE, NAME};
use crate::duration::since;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub(crate) fn columns() -> Vec<Column> {
    vec![
        NAME,
        col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        col("Status", "string", "The aggregate status of the containers in this pod."),
        col("Restarts", "integer", "The number of times the containers in this pod have been restarted and when the last restart happened."),
        AGE,
        wide("IP", "string", "The IP address assigned to the pod."),
        wide("Node", "string", "The node the pod is bound to."),
        wide("Nominated Node", "string", "The node the scheduler nominated for this pod after preemption."),
        wide("Readiness Gates", "string", "How many of the pod's readiness gates are satisfied."),
    ]
}

pub(crate) fn cells(pod: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let summary = summarize(pod);
    let restarts = match summary.last_restart {
        Some(when) if summary.restarts != 0 => {
            format!("{} ({} ago)", summary.restarts, since(Some(when), now))
        }
        _ => summary.restarts.to_string(),
    };
    vec![
        json!(name(pod)),
        json!(format!("{}/{}", summary.ready, summary.total)),
        json!(summary.status),
        json!(restarts),
        json!(since(time_at(pod, &["metadata", "creationTimestamp"]), now)),
        json!(pod_ip(pod)),
        json!(or_none(str_at(pod, &["spec", "nodeName"]))),
        json!(or_none(str_at(pod, &["status", "nominatedNodeName"]))),
        json!(readiness_gates(pod)),
    ]
}

/// `conditions` for the Table row: Kubernetes marks finished pods as completed rows.
pub(crate) fn row_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match str_at(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

/// What the Ready, Status and Restarts columns are computed from.
struct PodSummary {
    ready: usize,
    total: usize,
    status: String,
    restarts: i64,
    last_restart: Option<DateTime<Utc>>,
}

fn summarize(pod: &Value) -> PodSummary {
    let phase = str_at(pod, &["status", "phase"]);
    let mut reason = match str_at(pod, &["status", "reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let conditions = list_at(pod, &["status", "conditions"]);
    if conditions.iter().any(|c| {
        str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated"
    }) {
        reason = "SchedulingGated".to_string();
    }

    let init_specs = list_at(pod, &["spec", "initContainers"]);
    let is_sidecar = |container_name: &str| {
        init_specs.iter().any(|c| {
            str_at(c, &["name"]) == container_name && str_at(c, &["restartPolicy"]) == "Always"
        })
    };
    let total = list_at(pod, &["spec", "containers"]).len()
        + init_specs
            .iter()
            .filter(|c| str_at(c, &["restartPolicy"]) == "Always")
            .count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let mut sidecar_restarts = 0;
    let mut sidecar_last_restart: Option<DateTime<Utc>> = None;

    let mut initializing = false;
    for (i, status) in list_at(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let restart_count = int_at(status, &["restartCount"]);
        let finished = last_termination(status);
        restarts += restart_count;
        last_restart = later(last_restart, finished);
        let sidecar = is_sidecar(str_at(status, &["name"]));
        if sidecar {
            sidecar_restarts += restart_count;
            sidecar_last_restart = later(sidecar_last_restart, finished);
        }
        let terminated = at(status, &["state", "terminated"]);
        let waiting_reason = str_at(status, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|t| int_at(t, &["exitCode"]) == 0) {
            continue;
        }
        if sidecar && bool_at(status, &["started"]) {
            if bool_at(status, &["ready"]) {
                ready += 1;
            }
            continue;
        }
        reason = if let Some(t) = terminated {
            match str_at(t, &["reason"]) {
                "" => match int_at(t, &["signal"]) {
                    0 => format!("Init:ExitCode:{}", int_at(t, &["exitCode"])),
                    signal => format!("Init:Signal:{signal}"),
                },
                r => format!("Init:{r}"),
            }
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || condition_true(conditions, "Initialized") {
        // Only sidecars keep running next to the app containers, so only their
        // restarts still count once initialization is over.
        restarts = sidecar_restarts;
        last_restart = sidecar_last_restart;
        let mut has_running = false;
        for status in list_at(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int_at(status, &["restartCount"]);
            last_restart = later(last_restart, last_termination(status));
            let waiting_reason = str_at(status, &["state", "waiting", "reason"]);
            let terminated = at(status, &["state", "terminated"]);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = match str_at(t, &["reason"]) {
                    "" => match int_at(t, &["signal"]) {
                        0 => format!("ExitCode:{}", int_at(t, &["exitCode"])),
                        signal => format!("Signal:{signal}"),
                    },
                    r => r.to_string(),
                };
            } else if bool_at(status, &["ready"]) && has(status, &["state", "running"]) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(conditions, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    if has(pod, &["metadata", "deletionTimestamp"]) {
        if str_at(pod, &["status", "reason"]) == "NodeLost" {
            reason = "Unknown".to_string();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".to_string();
        }
    }

    PodSummary {
        ready,
        total,
        status: reason,
        restarts,
        last_restart,
    }
}

/// When the container last terminated (`lastState.terminated.finishedAt`).
fn last_termination(status: &Value) -> Option<DateTime<Utc>> {
    time_at(status, &["lastState", "terminated", "finishedAt"])
}

fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// True when the first condition of `type_` has status "True".
fn condition_true(conditions: &[Value], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| str_at(c, &["type"]) == type_)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

fn pod_ip(pod: &Value) -> String {
    let ip = list_at(pod, &["status", "podIPs"])
        .first()
        .map(|p| str_at(p, &["ip"]))
        .unwrap_or_else(|| str_at(pod, &["status", "podIP"]));
    or_none(ip)
}

/// "true/total" over `spec.readinessGates`, "<none>" when the pod has none.
fn readiness_gates(pod: &Value) -> String {
    let gates = list_at(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let conditions = list_at(pod, &["status", "conditions"]);
    let satisfied = gates
        .iter()
        .filter(|g| condition_true(conditions, str_at(g, &["conditionType"])))
        .count();
    format!("{satisfied}/{}", gates.len())
}
