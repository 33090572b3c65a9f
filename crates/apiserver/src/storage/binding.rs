//! The binding subresource's write: a pod assigned to a node, once. Written as it is, without
//! the update rules (the pod's spec is otherwise immutable).

use serde_json::{json, Value};

use super::ObjectRef;
use crate::errors::{ApiError, ApiResult};
use crate::object_meta;
use crate::state::SharedState;

pub async fn bind_pod(state: &SharedState, pod_ref: ObjectRef<'_>, node: &str) -> ApiResult<()> {
    let (res, ns, name) = (pod_ref.res, pod_ref.namespace, pod_ref.name);
    for _ in 0..super::RETRIES {
        let (pod, rev) = state.objects.must_get(res, ns, name).await?;
        if object_meta::is_deleting(&pod) {
            return Err(ApiError::conflict_msg(
                res,
                name,
                "pod is being deleted, cannot be assigned to a host",
            ));
        }
        if let Some(existing) = pod
            .get("spec")
            .and_then(|s| s.get("nodeName"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            return Err(ApiError::conflict_msg(
                res,
                name,
                &format!("pod {name} is already assigned to node \"{existing}\""),
            ));
        }
        let mut new = pod.clone();
        new["spec"]["nodeName"] = json!(node);
        set_condition(&mut new, "PodScheduled", "True");
        match state.objects.update(res, ns, name, rev, &new).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(res, name))
}

/// Sets a pod condition, keeping its transition time when the status does not change.
fn set_condition(pod: &mut Value, type_: &str, status: &str) {
    let now = object_meta::now_rfc3339();
    if !pod.get("status").is_some_and(Value::is_object) {
        pod["status"] = json!({});
    }
    let conds = pod["status"]
        .as_object_mut()
        .map(|s| s.entry("conditions").or_insert_with(|| json!([])))
        .and_then(Value::as_array_mut);
    let Some(conds) = conds else { return };
    let mut c =
        json!({"type": type_, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    match conds
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
    {
        Some(existing) => {
            if existing.get("status").and_then(Value::as_str) == Some(status) {
                c["lastTransitionTime"] = existing
                    .get("lastTransitionTime")
                    .cloned()
                    .unwrap_or(json!(now));
            }
            *existing = c;
        }
        None => conds.push(c),
    }
}
