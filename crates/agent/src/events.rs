//! core/v1 Events as the kubelet records them (`source.component: kubelet`, the node as host),
//! through the shared recorder (`peapod_events`: one event shape, one aggregation rule). The
//! pod worker calls these methods from synchronous code, so they only queue: one background
//! task writes the events in order.

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use kube::Client;
use peapod_events::{Occurrence, Recorder, Source};
use tokio::sync::mpsc;

pub use peapod_events::EventType;

/// Cheap handle; events are written in order by one background task.
#[derive(Clone)]
pub struct EventRecorder {
    tx: mpsc::UnboundedSender<Occurrence>,
}

impl EventRecorder {
    pub fn start(client: Client, node: String) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Occurrence>();
        let source = Source {
            component: "kubelet".into(),
            host: Some(node.clone()),
            instance: node,
        };
        let recorder = Recorder::new(client, source);
        tokio::spawn(async move {
            while let Some(what) = rx.recv().await {
                recorder.record(what).await;
            }
        });
        EventRecorder { tx }
    }

    /// An event about the pod itself.
    pub fn pod(&self, pod: &Pod, kind: EventType, reason: &str, message: impl Into<String>) {
        self.send(pod_ref(pod, None), kind, reason, message.into());
    }

    /// An event about one container (`fieldPath: spec.containers{name}`).
    pub fn container(
        &self,
        pod: &Pod,
        container: &str,
        init: bool,
        kind: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        let list = if init { "initContainers" } else { "containers" };
        let path = format!("spec.{list}{{{container}}}");
        self.send(pod_ref(pod, Some(path)), kind, reason, message.into());
    }

    /// An event about a Node.
    pub fn node(
        &self,
        node: &str,
        uid: Option<String>,
        kind: EventType,
        reason: &str,
        message: &str,
    ) {
        let object = ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.into()),
            uid: uid.or_else(|| Some(node.into())),
            ..Default::default()
        };
        self.send(object, kind, reason, message.into());
    }

    fn send(&self, about: ObjectReference, type_: EventType, reason: &str, message: String) {
        let _ = self.tx.send(Occurrence {
            about,
            type_,
            reason: reason.into(),
            message,
            action: None,
        });
    }
}

fn pod_ref(pod: &Pod, field_path: Option<String>) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: pod.metadata.name.clone(),
        namespace: pod.metadata.namespace.clone(),
        uid: pod.metadata.uid.clone(),
        resource_version: pod.metadata.resource_version.clone(),
        field_path,
    }
}
