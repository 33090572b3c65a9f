//! Events (core/v1) that tell users what a controller did or could not do, as
//! `kubectl describe` and `kubectl get events` show them, in the shape every peapod component
//! writes (`peapod_events::new_event`). Failing to record one is logged, never fatal: the action
//! it describes already happened.

use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, PostParams};
use kube::Resource;
use peapod_events::{new_event, EventType, Occurrence, Source};

use crate::context::Context;

pub const NORMAL: EventType = EventType::Normal;
pub const WARNING: EventType = EventType::Warning;

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

/// Creates a new Event each time (no aggregation): times come from the controllers' clock, so
/// tests with a fake clock see the times they set.
pub async fn record(
    ctx: &Context,
    component: &str,
    about: ObjectReference,
    type_: EventType,
    reason: &str,
    message: &str,
) {
    let source = Source {
        component: component.into(),
        host: None,
        instance: component.into(),
    };
    let what = Occurrence {
        about,
        type_,
        reason: reason.into(),
        message: message.into(),
        action: None,
    };
    let now = peapod_apimachinery::timeconv::to_jiff(ctx.clock.now());
    let ev = new_event(&source, &what, now);
    let api: Api<Event> = Api::namespaced(ctx.client.clone(), &what.namespace());
    if let Err(e) = api.create(&PostParams::default(), &ev).await {
        tracing::debug!(reason, error = %e, "could not record event");
    }
}
