//! Pod facts controllers share: activity, readiness, availability, the order in which to
//! delete, and building a pod from a template.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Counts toward replicas: not finished, not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    !is_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some() && !is_terminal(pod)
}

/// Since when the pod has been Ready, if it is.
pub fn ready_since(pod: &Pod) -> Option<DateTime<Utc>> {
    let cond = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    if cond.status != "True" {
        return None;
    }
    Some(
        cond.last_transition_time
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: DateTime<Utc>) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(t) => t + chrono::Duration::seconds(i64::from(min_ready_seconds)) <= now,
    }
}

/// When a ready but not yet available pod becomes available.
pub fn available_at(pod: &Pod, min_ready_seconds: i32) -> Option<DateTime<Utc>> {
    ready_since(pod).map(|t| t + chrono::Duration::seconds(i64::from(min_ready_seconds.max(0))))
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

/// Orders pods from least to most valuable: unscheduled, pending, not ready, ready for a
/// shorter time, more restarts, newer. Scale-down deletes from the front.
pub fn cmp_deletion_priority(a: &Pod, b: &Pod) -> Ordering {
    let assigned = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_some_and(|n| !n.is_empty())
    };
    assigned(a)
        .cmp(&assigned(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(is_ready(a).cmp(&is_ready(b)))
        // Ready more recently = less valuable.
        .then(ready_since(b).cmp(&ready_since(a)))
        .then(restarts(b).cmp(&restarts(a)))
        .then(
            b.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
                .cmp(
                    &a.metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0)),
                ),
        )
}

/// A pod for `template`, owned by `owner`; named `name` or generated from `generate_name`.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    owner: OwnerReference,
    name: Option<String>,
    generate_name: Option<String>,
    extra_labels: &BTreeMap<String, String>,
) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    let mut labels = tmeta.labels.unwrap_or_default();
    labels.extend(extra_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    Pod {
        metadata: ObjectMeta {
            name,
            generate_name,
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// `generateName` for a controller's pods: `<owner>-`, shortened the way Kubernetes does so
/// the generated name stays within 63 characters.
pub fn generate_name_prefix(owner: &str) -> String {
    const MAX: usize = 58;
    let prefix = format!("{owner}-");
    if prefix.len() > MAX {
        let mut cut = MAX;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix[..cut].to_string()
    } else {
        prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};

    fn pod(name: &str, node: Option<&str>, phase: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(String::from),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    last_transition_time: Some(peapod_apimachinery::timeconv::time(Utc::now())),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn least_valuable_first() {
        let mut pods = [
            pod("ready", Some("n"), "Running", true),
            pod("unscheduled", None, "Pending", false),
            pod("running-not-ready", Some("n"), "Running", false),
            pod("pending", Some("n"), "Pending", false),
        ];
        pods.sort_by(cmp_deletion_priority);
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            ["unscheduled", "pending", "running-not-ready", "ready"]
        );
    }

    #[test]
    fn availability_waits_min_ready_seconds() {
        let p = pod("a", Some("n"), "Running", true);
        assert!(is_available(&p, 0, Utc::now()));
        assert!(!is_available(&p, 30, Utc::now()));
        assert!(is_available(
            &p,
            30,
            Utc::now() + chrono::Duration::seconds(31)
        ));
    }

    #[test]
    fn long_owner_names_are_cut() {
        assert_eq!(generate_name_prefix("web"), "web-");
        assert_eq!(generate_name_prefix(&"x".repeat(80)).len(), 58);
    }
}
