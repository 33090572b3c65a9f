//! Events (core/v1) that tell users what a controller did or could not do, as
//! `kubectl describe` and `kubectl get events` show them. Failing to record one is logged,
//! never fatal: the action it describes already happened.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::Resource;

use crate::context::Context;

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

/// A reference to `obj` for an event's involvedObject.
pub fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    let m = obj.meta();
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        uid: m.uid.clone(),
        resource_version: m.resource_version.clone(),
        field_path: None,
    }
}

pub async fn record(
    ctx: &Context,
    component: &str,
    about: ObjectReference,
    type_: &str,
    reason: &str,
    message: &str,
) {
    // Events about cluster-scoped objects (nodes) live in `default`, as Kubernetes does it.
    let ns = about
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    let now = ctx.clock.now();
    let name = format!(
        "{}.{:x}",
        about.name.as_deref().unwrap_or("unknown"),
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let ev = Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        involved_object: about,
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some(type_.into()),
        source: Some(EventSource {
            component: Some(component.into()),
            host: None,
        }),
        first_timestamp: Some(peapod_apimachinery::timeconv::time(now)),
        last_timestamp: Some(peapod_apimachinery::timeconv::time(now)),
        count: Some(1),
        reporting_component: Some(component.into()),
        reporting_instance: Some(component.into()),
        ..Default::default()
    };
    let api: Api<Event> = Api::namespaced(ctx.client.clone(), &ns);
    if let Err(e) = api.create(&PostParams::default(), &ev).await {
        tracing::debug!(reason, error = %e, "could not record event");
    }
}
