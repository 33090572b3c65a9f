//! Events the server itself records (core/v1, as `kubectl describe` reads them). An Event is
//! stored through the create pipeline's `insert`, which never records events of its own.

use serde_json::{json, Value};

use super::create::{insert, CreateRequest};
use crate::object_meta;
use crate::registry;
use crate::state::SharedState;

/// Records an event about `about`; a failure is logged, never returned (events are advisory).
pub async fn record_event(
    state: &SharedState,
    about: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let Some(res) = registry::find("", "v1", "events") else {
        return;
    };
    let ns = object_meta::namespace(about)
        .unwrap_or("default")
        .to_string();
    let event = event_about(about, &ns, type_, reason, message, component);
    let req = CreateRequest {
        res,
        namespace: Some(&ns),
        object: event,
        dry_run: false,
    };
    if let Err(e) = insert(state, req).await {
        tracing::warn!(error = %e.message, "record event");
    }
}

fn event_about(
    about: &Value,
    ns: &str,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) -> Value {
    let name = object_meta::name(about).unwrap_or_default();
    let now = object_meta::now_rfc3339();
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{name}."), "namespace": ns},
        "involvedObject": {
            "apiVersion": about.get("apiVersion").cloned().unwrap_or(Value::Null),
            "kind": about.get("kind").cloned().unwrap_or(Value::Null),
            "name": name,
            "namespace": ns,
            "uid": object_meta::uid(about).unwrap_or_default(),
            "resourceVersion": object_meta::resource_version(about).unwrap_or_default(),
        },
        "reason": reason,
        "message": message,
        "type": type_,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "peapod",
    })
}
