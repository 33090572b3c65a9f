//! Subresources with their own shapes: scale (read as a Scale, written through the parent),
//! binding, eviction. The writes are the storage pipeline's.

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
use crate::storage::{self, DeleteOptions};
use crate::{body, object_meta, respond};

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
    let meta = object_meta::meta(obj).cloned().unwrap_or_default();
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

/// Writes `replicas` into the parent object and answers the parent's Scale.
async fn set_replicas(
    ctx: &Ctx<'_>,
    replicas: &Value,
    pinned_rv: Option<&str>,
) -> ApiResult<Response> {
    let target = ctx.object_ref();
    let n = storage::requested_replicas(target, replicas)?;
    let dry_run = ctx.query.dry_run()?;
    let parent = storage::set_replicas(ctx.state, target, n, pinned_rv, dry_run).await?;
    Ok(respond::json(
        StatusCode::OK,
        &scale_of(target.res, &parent),
    ))
}

pub async fn update_scale(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let bytes = body::read(raw).await?;
    let scale = body::decode(&ctx.content_type, &bytes)?;
    let replicas = scale
        .get("spec")
        .and_then(|s| s.get("replicas"))
        .cloned()
        .unwrap_or(json!(0));
    let rv = object_meta::resource_version(&scale).map(String::from);
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
    let bytes = body::read(raw).await?;
    let b = body::decode(&ctx.content_type, &bytes)?;
    let node = b
        .get("target")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("binding target name is required"))?
        .to_string();
    storage::bind_pod(ctx.state, ctx.object_ref(), &node).await?;
    Ok(respond::json(
        StatusCode::CREATED,
        &crate::errors::success_status(None, Some(201)),
    ))
}

/// `pods/<name>/eviction`: a graceful delete (disruption budgets are not served yet).
pub async fn eviction(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let bytes = body::read(raw).await?;
    let ev = if bytes.is_empty() {
        json!({})
    } else {
        body::decode(&ctx.content_type, &bytes)?
    };
    let opts = DeleteOptions {
        grace_period: ev
            .get("deleteOptions")
            .and_then(|o| o.get("gracePeriodSeconds"))
            .and_then(Value::as_i64),
        ..Default::default()
    };
    storage::delete(ctx.state, ctx.object_ref(), &opts).await?;
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
