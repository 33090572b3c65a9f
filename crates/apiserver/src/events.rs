//! Events the server itself records (core/v1, as `kubectl describe` reads them).

use serde_json::{json, Value};

use crate::object;
use crate::registry;
use crate::state::SharedState;

pub async fn record(
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
    let ns = object::namespace(about).unwrap_or("default").to_string();
    let name = object::name(about).unwrap_or_default();
    let now = object::now_rfc3339();
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{name}."), "namespace": ns},
        "involvedObject": {
            "apiVersion": about.get("apiVersion").cloned().unwrap_or(Value::Null),
            "kind": about.get("kind").cloned().unwrap_or(Value::Null),
            "name": name,
            "namespace": ns,
            "uid": object::uid(about).unwrap_or_default(),
            "resourceVersion": object::resource_version(about).unwrap_or_default(),
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
    });
    if let Err(e) = crate::handlers::create_internal(state, res, Some(&ns), event).await {
        tracing::warn!(error = %e.message, "record event");
    }
}
