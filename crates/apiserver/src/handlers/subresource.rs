//! Subresources with their own shapes: scale, binding, eviction.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use peapod_apimachinery::gvk::kinds;
use peapod_apimachinery::patch;
use peapod_apimachinery::selectors::LabelSelector;
use serde_json::{json, Value};

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use crate::{body, object, respond};

/// `status.selector` of a Scale: the parent's selector in `?labelSelector=` form.
fn scale_selector(res: &ResourceInfo, obj: &Value) -> String {
    let Some(selector) = obj.get("spec").and_then(|s| s.get("selector")) else {
        return String::new();
    };
    let parsed = if res.gvk == kinds::REPLICATION_CONTROLLER {
        // An equality selector: a plain label map.
        serde_json::from_value::<BTreeMap<String, String>>(selector.clone())
            .ok()
            .and_then(|labels| LabelSelector::from_labels(&labels).ok())
    } else {
        LabelSelector::from_api(selector).ok()
    };
    parsed.map(|s| s.to_string()).unwrap_or_default()
}

fn scale_of(res: &ResourceInfo, obj: &Value) -> Value {
    let meta = object::meta(obj).cloned().unwrap_or_default();
    let pick = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
    let selector = scale_selector(res, obj);
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": pick("name"), "namespace": pick("namespace"), "uid": pick("uid"),
            "resourceVersion": pick("resourceVersion"), "creationTimestamp": pick("creationTimestamp"),
        },
        "spec": {"replicas": obj.get("spec").and_then(|s| s.get("replicas")).and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": obj.get("status").and_then(|s| s.get("replicas")).and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    })
}

pub async fn get_scale(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let (obj, _) = ctx
        .state
        .objects
        .must_get(rr.res, rr.namespace.as_deref(), name)
        .await?;
    Ok(respond::json(StatusCode::OK, &scale_of(rr.res, &obj)))
}

/// Writes `replicas` into the parent object.
async fn set_replicas(
    ctx: &Ctx<'_>,
    replicas: &Value,
    pinned_rv: Option<&str>,
) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let ns = rr.namespace.as_deref();
    let Some(n) = replicas.as_i64() else {
        return Err(ApiError::invalid(
            rr.res,
            name,
            vec![crate::errors::Cause {
                reason: "FieldValueRequired".into(),
                field: "spec.replicas".into(),
                message: "Required value".into(),
            }],
        ));
    };
    if n < 0 {
        return Err(ApiError::invalid(
            rr.res,
            name,
            vec![crate::errors::Cause {
                reason: "FieldValueInvalid".into(),
                field: "spec.replicas".into(),
                message: format!("Invalid value: {n}: must be greater than or equal to 0"),
            }],
        ));
    }
    let dry_run = ctx.query.dry_run()?;
    for _ in 0..5 {
        let (current, rev) = ctx.state.objects.must_get(rr.res, ns, name).await?;
        if pinned_rv.is_some_and(|p| p != rev.to_string()) {
            return Err(ApiError::conflict(rr.res, name));
        }
        let mut new = current.clone();
        new["spec"]["replicas"] = json!(n);
        match super::update::commit_update(
            ctx.state, rr.res, ns, name, current, rev, new, None, dry_run,
        )
        .await
        {
            Ok(out) => return Ok(respond::json(StatusCode::OK, &scale_of(rr.res, &out))),
            Err(e) if e.code == 409 && pinned_rv.is_none() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(rr.res, name))
}

pub async fn update_scale(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let bytes = body::read(raw).await?;
    let scale = body::decode(&ctx.content_type, &bytes)?;
    let replicas = scale
        .get("spec")
        .and_then(|s| s.get("replicas"))
        .cloned()
        .unwrap_or(json!(0));
    let rv = object::resource_version(&scale).map(String::from);
    set_replicas(ctx, &replicas, rv.as_deref()).await
}

pub async fn patch_scale(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let bytes = body::read(raw).await?;
    let p = body::parse_json(&bytes)?;
    let (obj, _) = ctx
        .state
        .objects
        .must_get(rr.res, rr.namespace.as_deref(), name)
        .await?;
    let current = scale_of(rr.res, &obj);
    let patched = match ctx.content_type.as_str() {
        "application/json-patch+json" => patch::json_patch(&current, &p)
            .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?,
        _ => patch::merge_patch(&current, &p),
    };
    let replicas = patched
        .get("spec")
        .and_then(|s| s.get("replicas"))
        .cloned()
        .unwrap_or(Value::Null);
    set_replicas(ctx, &replicas, None).await
}

/// `pods/<name>/binding`: assigns a pod to a node, once.
pub async fn binding(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let ns = rr.namespace.as_deref();
    let bytes = body::read(raw).await?;
    let b = body::decode(&ctx.content_type, &bytes)?;
    let node = b
        .get("target")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("binding target name is required"))?
        .to_string();
    for _ in 0..5 {
        let (pod, rev) = ctx.state.objects.must_get(rr.res, ns, name).await?;
        if object::is_deleting(&pod) {
            return Err(ApiError::conflict_msg(
                rr.res,
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
                rr.res,
                name,
                &format!("pod {name} is already assigned to node \"{existing}\""),
            ));
        }
        let mut new = pod.clone();
        new["spec"]["nodeName"] = json!(node);
        set_condition(&mut new, "PodScheduled", "True", None, None);
        match ctx.state.objects.update(rr.res, ns, name, rev, &new).await {
            Ok(_) => {
                return Ok(respond::json(
                    StatusCode::CREATED,
                    &crate::errors::success_status(None, Some(201)),
                ))
            }
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(rr.res, name))
}

/// Sets a pod condition, keeping its transition time when the status does not change.
pub fn set_condition(
    pod: &mut Value,
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
) {
    let now = object::now_rfc3339();
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
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
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

/// `pods/<name>/eviction`: a graceful delete (disruption budgets are not served yet).
pub async fn eviction(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let bytes = body::read(raw).await?;
    let ev = if bytes.is_empty() {
        json!({})
    } else {
        body::decode(&ctx.content_type, &bytes)?
    };
    let opts = super::DeleteOptions {
        grace_period: ev
            .get("deleteOptions")
            .and_then(|o| o.get("gracePeriodSeconds"))
            .and_then(Value::as_i64),
        ..Default::default()
    };
    super::delete_object(ctx.state, rr.res, rr.namespace.as_deref(), name, &opts).await?;
    Ok(respond::json(
        StatusCode::CREATED,
        &crate::errors::success_status(None, Some(201)),
    ))
}

#[cfg(test)]
mod tests {
    use super::scale_selector;
    use crate::registry;
    use serde_json::json;

    #[test]
    fn scale_selector_reads_label_maps_and_label_selectors() {
        let rc = registry::find("", "v1", "replicationcontrollers").expect("served");
        let obj = json!({"spec": {"selector": {"tier": "fe", "app": "web"}}});
        assert_eq!(scale_selector(rc, &obj), "app=web,tier=fe");
        let rs = registry::find("apps", "v1", "replicasets").expect("served");
        let obj = json!({"spec": {"selector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["a"]}]}}});
        assert_eq!(scale_selector(rs, &obj), "app=web,env in (a)");
        assert_eq!(scale_selector(rc, &json!({"spec": {}})), "");
    }
}
