//! Events about pods as the scheduler reports them (`Scheduled`, `FailedScheduling`,
//! `Preempted`), written by the shared recorder (`peapod_events`: one event shape, one
//! aggregation rule).

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::Client;
use peapod_events::{Occurrence, Source};

pub use peapod_events::EventType;

pub struct Recorder {
    inner: peapod_events::Recorder,
}

impl Recorder {
    pub fn new(client: Client, component: String, instance: String) -> Self {
        let source = Source {
            component,
            host: None,
            instance,
        };
        Recorder {
            inner: peapod_events::Recorder::new(client, source),
        }
    }

    /// Records an event about `pod`. Failures are logged: events are best-effort, as upstream.
    pub async fn pod_event(
        &self,
        pod: &Pod,
        type_: EventType,
        reason: &str,
        action: &str,
        message: &str,
    ) {
        let about = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(pod.metadata.name.clone().unwrap_or_default()),
            namespace: Some(
                pod.metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()),
            ),
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
            ..Default::default()
        };
        let what = Occurrence {
            about,
            type_,
            reason: reason.into(),
            message: message.into(),
            action: Some(action.into()),
        };
        self.inner.record(what).await;
    }

    /// Drops aggregation state of a pod that is gone or bound.
    pub fn forget_pod(&self, uid: &str) {
        self.inner.forget_object(uid);
    }
}
