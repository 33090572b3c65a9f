//! Deployment status: counts summed over its ReplicaSets, the Available condition, and the
//! Progressing condition with its deadline (what `kubectl rollout status` reads).

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus};
use kube::ResourceExt;

use super::sets::Sets;
use super::util::*;

pub struct Computed {
    pub status: DeploymentStatus,
    /// When the progress deadline would pass, if the rollout is still going.
    pub deadline: Option<DateTime<Utc>>,
}

fn cond<'a>(s: &'a DeploymentStatus, t: &str) -> Option<&'a DeploymentCondition> {
    s.conditions.as_ref()?.iter().find(|c| c.type_ == t)
}

fn set_cond(conds: &mut Vec<DeploymentCondition>, mut c: DeploymentCondition, now: DateTime<Utc>) {
    if let Some(old) = conds.iter().find(|o| o.type_ == c.type_) {
        if old.status == c.status && old.reason == c.reason && old.message == c.message {
            return;
        }
        // lastTransitionTime moves only when the status flips.
        if old.status == c.status {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
    c.last_update_time
        .get_or_insert(peapod_apimachinery::timeconv::time(now));
    c.last_transition_time
        .get_or_insert(peapod_apimachinery::timeconv::time(now));
    conds.retain(|o| o.type_ != c.type_);
    conds.push(c);
}

fn condition(type_: &str, status: &str, reason: &str, message: String) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: None,
        last_update_time: None,
    }
}

pub fn compute(d: &Deployment, sets: &Sets, now: DateTime<Utc>, resumed: bool) -> Computed {
    let all = sets.all();
    let st = |f: fn(&k8s_openapi::api::apps::v1::ReplicaSetStatus) -> i32| -> i32 {
        all.iter()
            .map(|rs| rs.status.as_ref().map(f).unwrap_or(0))
            .sum()
    };
    let want = replicas(d);
    let total = st(|s| s.replicas);
    let available = st(|s| s.available_replicas.unwrap_or(0));
    let ready = st(|s| s.ready_replicas.unwrap_or(0));
    let updated = sets
        .new
        .as_ref()
        .and_then(|rs| rs.status.as_ref())
        .map(|s| s.replicas)
        .unwrap_or(0);
    let old = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(total),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        unavailable_replicas: Some((want - available).max(0)),
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
        terminating_replicas: None,
    };
    let mut conds = old.conditions.clone().unwrap_or_default();
    let max_unavailable = fenceposts(d).map(|(_, u)| u).unwrap_or(0);
    if available >= want - max_unavailable {
        set_cond(
            &mut conds,
            condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            ),
            now,
        );
    } else {
        set_cond(
            &mut conds,
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            ),
            now,
        );
    }

    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let deadline_secs = d
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    let new_name = sets
        .new
        .as_ref()
        .map(|rs| rs.name_any())
        .unwrap_or_default();
    let mut deadline = None;
    if paused {
        set_cond(
            &mut conds,
            condition(
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused".into(),
            ),
            now,
        );
    } else if deadline_secs != i32::MAX {
        let complete = updated == want && total == want && available == want && sets.new.is_some();
        let progressed = updated > old.updated_replicas.unwrap_or(0)
            || total < old.replicas.unwrap_or(0)
            || ready > old.ready_replicas.unwrap_or(0)
            || available > old.available_replicas.unwrap_or(0);
        let current = cond(&old, "Progressing");
        if complete {
            set_cond(
                &mut conds,
                condition(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                ),
                now,
            );
        } else if progressed
            || resumed
            || current.is_none()
            || current.is_some_and(|c| c.reason.as_deref() == Some("NewReplicaSetAvailable"))
        {
            // Any progress (or a fresh rollout) restarts the deadline clock.
            let mut c = condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{new_name}\" is progressing."),
            );
            c.last_update_time = Some(peapod_apimachinery::timeconv::time(now));
            let keep_transition = current
                .filter(|o| o.status == "True")
                .and_then(|o| o.last_transition_time.clone());
            c.last_transition_time =
                keep_transition.or(Some(peapod_apimachinery::timeconv::time(now)));
            conds.retain(|o| o.type_ != "Progressing");
            conds.push(c);
            deadline = Some(now + chrono::Duration::seconds(i64::from(deadline_secs)));
        } else if let Some(c) = current {
            let since = c
                .last_update_time
                .as_ref()
                .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
                .unwrap_or(now);
            let due = since + chrono::Duration::seconds(i64::from(deadline_secs));
            if c.reason.as_deref() != Some("ProgressDeadlineExceeded") {
                if due <= now {
                    set_cond(
                        &mut conds,
                        condition(
                            "Progressing",
                            "False",
                            "ProgressDeadlineExceeded",
                            format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                        ),
                        now,
                    );
                } else {
                    deadline = Some(due);
                }
            }
        }
    }
    conds.sort_by(|a, b| a.type_.cmp(&b.type_));
    status.conditions = Some(conds);
    Computed { status, deadline }
}

/// Status equality that ignores the update timestamps of unchanged conditions.
pub fn differs(old: Option<&DeploymentStatus>, new: &DeploymentStatus) -> bool {
    old != Some(new)
}
