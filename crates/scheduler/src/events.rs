//! core/v1 Events about pods, aggregated like client-go's recorder: an event identical to one
//! already emitted (same object, type, reason, message) bumps that Event's `count` and
//! `lastTimestamp` instead of creating another.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use std::sync::{Mutex, MutexGuard};

/// Forget aggregation state beyond this many distinct events (client-go keeps an LRU of 4096).
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct Key {
    namespace: String,
    uid: String,
    type_: String,
    reason: String,
    message: String,
}

#[derive(Debug, Clone)]
struct Emitted {
    name: String,
    count: i32,
}

pub struct Recorder {
    client: Client,
    component: String,
    instance: String,
    emitted: Mutex<HashMap<Key, Emitted>>,
}

impl Recorder {
    pub fn new(client: Client, component: String, instance: String) -> Self {
        Recorder {
            client,
            component,
            instance,
            emitted: Mutex::new(HashMap::new()),
        }
    }

    /// Records an event about `pod`. Failures are logged: events are best-effort, as upstream.
    pub async fn pod_event(
        &self,
        pod: &Pod,
        type_: &str,
        reason: &str,
        action: &str,
        message: &str,
    ) {
        if let Err(e) = self
            .try_pod_event(pod, type_, reason, action, message)
            .await
        {
            tracing::warn!(pod = %crate::node_info::pod_key(pod), reason, "recording event failed: {e}");
        }
    }

    async fn try_pod_event(
        &self,
        pod: &Pod,
        type_: &str,
        reason: &str,
        action: &str,
        message: &str,
    ) -> kube::Result<()> {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let key = Key {
            namespace: namespace.clone(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            type_: type_.into(),
            reason: reason.into(),
            message: message.into(),
        };
        let now = Timestamp::now();
        let previous = self.lock().get(&key).cloned();
        if let Some(prev) = previous {
            let count = prev.count + 1;
            let patch = serde_json::json!({"count": count, "lastTimestamp": Time(now)});
            match api
                .patch(&prev.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.remember(
                        key,
                        Emitted {
                            name: prev.name,
                            count,
                        },
                    );
                    return Ok(());
                }
                // Expired or deleted: start a new one.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let name = format!("{pod_name}.{:x}", now.as_nanosecond());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod_name),
                namespace: Some(namespace),
                uid: pod.metadata.uid.clone(),
                resource_version: pod.metadata.resource_version.clone(),
                ..Default::default()
            },
            type_: Some(type_.into()),
            reason: Some(reason.into()),
            message: Some(message.into()),
            action: Some(action.into()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            source: Some(EventSource {
                component: Some(self.component.clone()),
                host: None,
            }),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        };
        api.create(&PostParams::default(), &event).await?;
        self.remember(key, Emitted { name, count: 1 });
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Emitted>> {
        // A panic elsewhere cannot leave this map inconsistent: keep using it.
        self.emitted.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, key: Key, emitted: Emitted) {
        let mut map = self.lock();
        if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, emitted);
    }

    /// Drops aggregation state of a pod that is gone or bound.
    pub fn forget_pod(&self, uid: &str) {
        self.lock().retain(|k, _| k.uid != uid);
    }
}
