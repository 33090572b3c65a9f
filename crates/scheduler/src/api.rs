//! The scheduler's writes, all through the public API: bind (`pods/binding`), the PodScheduled
//! condition (`pods/status`) and preemption (DisruptionTarget condition, then delete).

use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, PostParams};
use kube::Api;

const CONFLICT_RETRIES: usize = 5;

pub async fn bind(api: &Api<Pod>, pod: &Pod, node: &str) -> kube::Result<()> {
    let binding = Binding {
        metadata: ObjectMeta {
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.into()),
            ..Default::default()
        },
    };
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    api.create_subresource::<_, serde_json::Value>(
        "binding",
        name,
        &PostParams::default(),
        &binding,
    )
    .await?;
    Ok(())
}

/// What the PodScheduled condition should say while the pod waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotScheduled {
    pub reason: String,
    pub message: String,
    /// Set when preemption made room on this node.
    pub nominated_node: Option<String>,
}

/// True when the pod already carries exactly this condition (and nomination): nothing to write.
pub fn already_reported(pod: &Pod, want: &NotScheduled) -> bool {
    let status = pod.status.as_ref();
    let cond = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"));
    let nominated = status
        .and_then(|s| s.nominated_node_name.clone())
        .filter(|n| !n.is_empty());
    cond.is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some(&want.reason)
            && c.message.as_deref() == Some(&want.message)
    }) && (want.nominated_node.is_none() || nominated == want.nominated_node)
}

/// Sets `PodScheduled=False` with reason and message, keeping the transition time when the status
/// was already False. Re-reads and retries on conflicts; skips pods that got bound or replaced.
pub async fn set_not_scheduled(
    api: &Api<Pod>,
    name: &str,
    uid: &str,
    want: &NotScheduled,
) -> kube::Result<()> {
    for _ in 0..CONFLICT_RETRIES {
        let mut pod = match api.get(name).await {
            Ok(p) => p,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e),
        };
        let bound = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        if pod.metadata.uid.as_deref() != Some(uid) || bound || already_reported(&pod, want) {
            return Ok(());
        }
        let status = pod.status.get_or_insert_with(Default::default);
        if let Some(node) = &want.nominated_node {
            status.nominated_node_name = Some(node.clone());
        }
        upsert_condition(
            status.conditions.get_or_insert_with(Vec::new),
            "PodScheduled",
            "False",
            &want.reason,
            &want.message,
        );
        match api.replace_status(name, &PostParams::default(), &pod).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Marks a preemption victim (DisruptionTarget, as upstream) and deletes it gracefully.
pub async fn preempt_victim(
    api: &Api<Pod>,
    name: &str,
    uid: &str,
    message: &str,
) -> kube::Result<()> {
    for _ in 0..CONFLICT_RETRIES {
        let mut pod = match api.get(name).await {
            Ok(p) => p,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e),
        };
        if pod.metadata.uid.as_deref() != Some(uid) {
            return Ok(());
        }
        let status = pod.status.get_or_insert_with(Default::default);
        upsert_condition(
            status.conditions.get_or_insert_with(Vec::new),
            "DisruptionTarget",
            "True",
            "PreemptionByScheduler",
            message,
        );
        match api.replace_status(name, &PostParams::default(), &pod).await {
            Ok(_) => break,
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some(uid.into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Replaces or appends a condition; the transition time moves only when the status flips.
pub fn upsert_condition(
    conds: &mut Vec<PodCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
) {
    let now = Time(Timestamp::now());
    let new = |ltt: Time| PodCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(ltt),
        last_probe_time: None,
        observed_generation: None,
    };
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            let ltt = if c.status == status {
                c.last_transition_time.clone().unwrap_or(now)
            } else {
                now
            };
            *c = new(ltt);
        }
        None => conds.push(new(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;

    fn want(msg: &str) -> NotScheduled {
        NotScheduled {
            reason: "Unschedulable".into(),
            message: msg.into(),
            nominated_node: None,
        }
    }

    #[test]
    fn condition_upsert_keeps_transition_time_when_status_unchanged() {
        let old = Time(Timestamp::from_second(1_000).unwrap());
        let mut conds = vec![PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            last_transition_time: Some(old.clone()),
            ..Default::default()
        }];
        upsert_condition(&mut conds, "PodScheduled", "False", "Unschedulable", "m2");
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].last_transition_time, Some(old.clone()));
        assert_eq!(conds[0].message.as_deref(), Some("m2"));
        conds[0].status = "True".into();
        upsert_condition(&mut conds, "PodScheduled", "False", "Unschedulable", "m3");
        assert_ne!(conds[0].last_transition_time, Some(old));
        upsert_condition(&mut conds, "Other", "True", "R", "M");
        assert_eq!(conds.len(), 2);
    }

    #[test]
    fn already_reported_compares_reason_message_and_nomination() {
        let mut pod = Pod::default();
        assert!(!already_reported(&pod, &want("m")));
        let mut conds = Vec::new();
        upsert_condition(&mut conds, "PodScheduled", "False", "Unschedulable", "m");
        pod.status = Some(PodStatus {
            conditions: Some(conds),
            ..Default::default()
        });
        assert!(already_reported(&pod, &want("m")));
        assert!(!already_reported(&pod, &want("other")));
        let nominated = NotScheduled {
            nominated_node: Some("n1".into()),
            ..want("m")
        };
        assert!(!already_reported(&pod, &nominated));
    }
}
