//! A StatefulSet's status: pod counts per readiness and revision, and the revisions. A
//! rolling update is complete once every pod is updated and ready; then the update revision
//! becomes the current one.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetCondition, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::podutil;
use crate::replicaset::count;
use crate::revisions::HASH_LABEL;

pub const UNSUPPORTED_CONDITION: &str = "VolumeClaimTemplatesUnsupported";

pub fn running_and_available(pod: &Pod, min_ready: i32, now: DateTime<Utc>) -> bool {
    podutil::phase(pod) == "Running" && podutil::is_available(pod, min_ready, now)
}

pub struct Revisions<'a> {
    pub current: &'a str,
    pub update: &'a str,
    pub rolling: bool,
}

pub fn compute(
    sts: &StatefulSet,
    pods: &[Arc<Pod>],
    revs: &Revisions,
    min_ready: i32,
    now: DateTime<Utc>,
    unsupported: Option<&str>,
) -> StatefulSetStatus {
    let old = sts.status.clone().unwrap_or_default();
    let (mut ready, mut available, mut current, mut updated) = (0, 0, 0, 0);
    for p in pods {
        if podutil::phase(p) == "Running" && podutil::is_ready(p) {
            ready += 1;
            available += usize::from(running_and_available(p, min_ready, now));
        }
        if p.metadata.deletion_timestamp.is_none() {
            let rev = p.labels().get(HASH_LABEL).map(String::as_str);
            current += usize::from(rev == Some(revs.current));
            updated += usize::from(rev == Some(revs.update));
        }
    }
    let mut status = StatefulSetStatus {
        replicas: count(pods.len()),
        ready_replicas: Some(count(ready)),
        available_replicas: Some(count(available)),
        current_replicas: Some(count(current)),
        updated_replicas: Some(count(updated)),
        current_revision: Some(revs.current.to_string()).filter(|r| !r.is_empty()),
        update_revision: Some(revs.update.to_string()).filter(|r| !r.is_empty()),
        collision_count: old.collision_count,
        observed_generation: sts.metadata.generation,
        conditions: None,
    };
    if revs.rolling && updated == pods.len() && ready == pods.len() {
        status.current_revision = status.update_revision.clone();
        status.current_replicas = status.updated_replicas;
    }
    let mut conditions: Vec<StatefulSetCondition> = old
        .conditions
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.type_ != UNSUPPORTED_CONDITION)
        .collect();
    if let Some(message) = unsupported {
        let since = sts
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == UNSUPPORTED_CONDITION))
            .and_then(|c| c.last_transition_time.clone());
        conditions.push(StatefulSetCondition {
            type_: UNSUPPORTED_CONDITION.into(),
            status: "True".into(),
            reason: Some("VolumeClaimTemplatesUnsupported".into()),
            message: Some(message.into()),
            last_transition_time: since.or(Some(peapod_apimachinery::timeconv::time(now))),
        });
    }
    status.conditions = (!conditions.is_empty()).then_some(conditions);
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(rev: &str, ready: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                labels: Some([(HASH_LABEL.to_string(), rev.to_string())].into()),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    #[test]
    fn rollout_completes_when_all_updated_and_ready() {
        let revs = Revisions {
            current: "r1",
            update: "r2",
            rolling: true,
        };
        let sts = StatefulSet::default();
        let now = Utc::now();
        let s = compute(
            &sts,
            &[pod("r1", true), pod("r2", true)],
            &revs,
            0,
            now,
            None,
        );
        assert_eq!(
            (
                s.replicas,
                s.ready_replicas,
                s.current_replicas,
                s.updated_replicas
            ),
            (2, Some(2), Some(1), Some(1))
        );
        assert_eq!(s.current_revision.as_deref(), Some("r1"));
        let s = compute(
            &sts,
            &[pod("r2", true), pod("r2", false)],
            &revs,
            0,
            now,
            None,
        );
        assert_eq!(
            s.current_revision.as_deref(),
            Some("r1"),
            "one pod not ready"
        );
        let s = compute(
            &sts,
            &[pod("r2", true), pod("r2", true)],
            &revs,
            0,
            now,
            None,
        );
        assert_eq!(s.current_revision.as_deref(), Some("r2"));
        assert_eq!(s.current_replicas, Some(2));
        let s = compute(&sts, &[], &revs, 0, now, Some("no claims"));
        assert_eq!(s.conditions.map(|c| c.len()), Some(1));
    }
}
