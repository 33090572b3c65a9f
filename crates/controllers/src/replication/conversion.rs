//! ReplicationController ↔ ReplicaSet: the same object in two shapes. A controller's equality
//! selector is a ReplicaSet's `matchLabels`; status fields and conditions correspond one to one
//! (a ReplicationController has no `terminatingReplicas`).

use k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::{
    ReplicationController, ReplicationControllerCondition, ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// The ReplicaSet the replica loop works on for `rc` (same metadata, so same uid).
pub fn to_replica_set(rc: &ReplicationController) -> ReplicaSet {
    ReplicaSet {
        metadata: rc.metadata.clone(),
        spec: rc.spec.as_ref().map(|s| ReplicaSetSpec {
            replicas: s.replicas,
            min_ready_seconds: s.min_ready_seconds,
            selector: LabelSelector {
                match_labels: s.selector.clone(),
                match_expressions: None,
            },
            template: s.template.clone(),
        }),
        status: rc.status.as_ref().map(to_replica_set_status),
    }
}

fn to_replica_set_status(s: &ReplicationControllerStatus) -> ReplicaSetStatus {
    ReplicaSetStatus {
        replicas: s.replicas,
        fully_labeled_replicas: s.fully_labeled_replicas,
        ready_replicas: s.ready_replicas,
        available_replicas: s.available_replicas,
        observed_generation: s.observed_generation,
        conditions: s.conditions.as_ref().map(|cs| {
            cs.iter()
                .map(|c| ReplicaSetCondition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                    last_transition_time: c.last_transition_time.clone(),
                })
                .collect()
        }),
        terminating_replicas: None,
    }
}

/// The ReplicationController status for what the replica loop computed.
pub fn from_replica_set_status(s: &ReplicaSetStatus) -> ReplicationControllerStatus {
    ReplicationControllerStatus {
        replicas: s.replicas,
        fully_labeled_replicas: s.fully_labeled_replicas,
        ready_replicas: s.ready_replicas,
        available_replicas: s.available_replicas,
        observed_generation: s.observed_generation,
        conditions: s.conditions.as_ref().map(|cs| {
            cs.iter()
                .map(|c| ReplicationControllerCondition {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                    last_transition_time: c.last_transition_time.clone(),
                })
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ReplicationControllerSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    #[test]
    fn selector_becomes_match_labels_and_status_round_trips() {
        let selector = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let status = ReplicationControllerStatus {
            replicas: 2,
            ready_replicas: Some(1),
            observed_generation: Some(3),
            conditions: Some(vec![ReplicationControllerCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: Some("FailedCreate".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let rc = ReplicationController {
            metadata: ObjectMeta {
                name: Some("web".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(ReplicationControllerSpec {
                replicas: Some(2),
                min_ready_seconds: Some(5),
                selector: Some(selector.clone()),
                template: None,
            }),
            status: Some(status.clone()),
        };
        let rs = to_replica_set(&rc);
        assert_eq!(rs.metadata, rc.metadata);
        let spec = rs.spec.expect("spec");
        assert_eq!(spec.selector.match_labels, Some(selector));
        assert_eq!(spec.selector.match_expressions, None);
        assert_eq!((spec.replicas, spec.min_ready_seconds), (Some(2), Some(5)));
        let back = from_replica_set_status(&rs.status.expect("status"));
        assert_eq!(back, status);
    }
}
