//! core/v1 Events as the kubelet records them (`source.component: kubelet`), aggregated: a
//! repeat of the same reason and message for the same object bumps `count` and
//! `lastTimestamp` instead of creating a new Event.

use std::collections::HashMap;

use chrono::Utc;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
struct Record {
    object: ObjectReference,
    kind: EventType,
    reason: String,
    message: String,
}

/// Cheap handle; events are written in order by one background task.
#[derive(Clone)]
pub struct EventRecorder {
    tx: mpsc::UnboundedSender<Record>,
}

impl EventRecorder {
    pub fn start(client: Client, node: String) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(client, node, rx));
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

    fn send(&self, object: ObjectReference, kind: EventType, reason: &str, message: String) {
        let _ = self.tx.send(Record {
            object,
            kind,
            reason: reason.into(),
            message,
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

type Key = (String, String, String, String, &'static str);

async fn writer(client: Client, node: String, mut rx: mpsc::UnboundedReceiver<Record>) {
    // key → (namespace, event name, count)
    let mut seen: HashMap<Key, (String, String, i32)> = HashMap::new();
    while let Some(rec) = rx.recv().await {
        let namespace = rec
            .object
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let key: Key = (
            rec.object.uid.clone().unwrap_or_default(),
            rec.object.field_path.clone().unwrap_or_default(),
            rec.reason.clone(),
            rec.message.clone(),
            rec.kind.as_str(),
        );
        let now = Utc::now();
        if let Some((ns, name, count)) = seen.get_mut(&key) {
            *count += 1;
            let api: Api<Event> = Api::namespaced(client.clone(), ns);
            let patch =
                json!({"count": *count, "lastTimestamp": peapod_apimachinery::timeconv::time(now)});
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => continue,
                Err(e) => tracing::debug!("bumping event {name}: {e}; creating a new one"),
            }
        }
        let base = rec.object.name.clone().unwrap_or_else(|| "object".into());
        let name = format!(
            "{base}.{:x}",
            now.timestamp_nanos_opt().unwrap_or_default() as u64
        );
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: rec.object.clone(),
            reason: Some(rec.reason.clone()),
            message: Some(rec.message.clone()),
            type_: Some(rec.kind.as_str().into()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(node.clone()),
            }),
            first_timestamp: Some(peapod_apimachinery::timeconv::time(now)),
            last_timestamp: Some(peapod_apimachinery::timeconv::time(now)),
            event_time: None::<MicroTime>,
            count: Some(1),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(node.clone()),
            ..Default::default()
        };
        let api: Api<Event> = Api::namespaced(client.clone(), &namespace);
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                if seen.len() > 4096 {
                    seen.clear();
                }
                seen.insert(key, (namespace, name, 1));
            }
            Err(e) => tracing::warn!("recording event {} {}: {e}", rec.reason, rec.message),
        }
    }
}
