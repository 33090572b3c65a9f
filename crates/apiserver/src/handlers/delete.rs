//! delete and deletecollection: DeleteOptions from the query and body, the storage pipeline's
//! deletion, and the answer kube-apiserver gives (the object, a success Status, or 202).

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::filter::Filter;
use crate::registry::ResourceInfo;
use crate::storage::{self, DeleteOptions, Deletion};
use crate::{body, object_meta, respond};

/// DeleteOptions from the query and the body (the body wins).
fn delete_options(ctx: &Ctx<'_>, bytes: &[u8]) -> ApiResult<DeleteOptions> {
    let q = ctx.query;
    let mut o = DeleteOptions {
        grace_period: q.int("gracePeriodSeconds")?,
        propagation: q.non_empty("propagationPolicy").map(String::from),
        dry_run: q.dry_run()?,
        ..Default::default()
    };
    if q.flag("orphanDependents") {
        o.propagation = Some("Orphan".into());
    }
    if let Some(v) = q.get("orphanDependents") {
        o.orphan_dependents = Some(matches!(v, "true" | "1" | "t" | "T" | "TRUE" | "True"));
    }
    if !bytes.is_empty() {
        let v = body::decode(&ctx.content_type, bytes)?;
        if let Some(g) = v.get("gracePeriodSeconds").and_then(Value::as_i64) {
            o.grace_period = Some(g);
        }
        if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
            o.propagation = Some(p.to_string());
        }
        if let Some(orphan) = v.get("orphanDependents").and_then(Value::as_bool) {
            o.orphan_dependents = Some(orphan);
            if orphan {
                o.propagation = Some("Orphan".into());
            }
        }
        if let Some(p) = v.get("preconditions") {
            o.precondition_uid = p.get("uid").and_then(Value::as_str).map(String::from);
            o.precondition_rv = p
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(String::from);
        }
        if v.get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            o.dry_run = true;
        }
    }
    if let Some(p) = &o.propagation {
        if !matches!(p.as_str(), "Orphan" | "Background" | "Foreground") {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {p:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    }
    if o.grace_period.is_some_and(|g| g < 0) {
        o.grace_period = Some(0);
    }
    Ok(o)
}

pub async fn delete(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let bytes = body::read(raw).await?;
    let opts = delete_options(ctx, &bytes)?;
    let name = rr.name.as_deref().unwrap_or_default();
    let Deletion { object: obj, gone } =
        storage::delete(ctx.state, ctx.object_ref(), &opts).await?;
    if !gone {
        // Still being deleted (grace period, finalizers): the object as it now is.
        let code = if opts.orphan_dependents == Some(false) {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        return Ok(respond::json(code, &obj));
    }
    if returns_deleted_object(rr.res) {
        return Ok(respond::json(StatusCode::OK, &obj));
    }
    let mut details = serde_json::Map::new();
    details.insert("name".into(), json!(name));
    details.insert("group".into(), json!(rr.res.gvk.group));
    details.insert("kind".into(), json!(rr.res.plural));
    details.insert("uid".into(), json!(object_meta::uid(&obj).unwrap_or("")));
    Ok(respond::json(
        StatusCode::OK,
        &crate::errors::success_status(Some(Value::Object(details)), None),
    ))
}

/// The kinds whose deletion answers with the deleted object rather than a `Status`, as
/// their kube-apiserver storage does (`ReturnDeletedObject`); typed clients parse the answer
/// as that kind. Every other kind answers a success `Status` naming what was deleted.
fn returns_deleted_object(res: &ResourceInfo) -> bool {
    const KINDS: &[(&str, &str)] = &[
        ("", "pods"),
        ("", "services"),
        ("", "namespaces"),
        ("", "persistentvolumes"),
        ("", "persistentvolumeclaims"),
        ("", "podtemplates"),
        ("", "serviceaccounts"),
        ("", "resourcequotas"),
        ("storage.k8s.io", "storageclasses"),
        ("storage.k8s.io", "volumeattachments"),
        ("storage.k8s.io", "csidrivers"),
        ("storage.k8s.io", "csinodes"),
        ("storage.k8s.io", "volumeattributesclasses"),
        ("resource.k8s.io", "resourceclaims"),
        ("resource.k8s.io", "resourceclaimtemplates"),
        ("resource.k8s.io", "deviceclasses"),
        ("resource.k8s.io", "resourceslices"),
    ];
    KINDS.contains(&(res.gvk.group, res.plural))
}

pub async fn delete_collection(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let bytes = body::read(raw).await?;
    let opts = delete_options(ctx, &bytes)?;
    let filter = Filter::from_query(rr.res, ctx.query)?;
    let (items, rev, _) = super::read::collect(ctx, &filter, 0).await?;
    // The list holds the objects as they were listed, before deletion (as upstream).
    let deleted = storage::delete_listed(ctx.state, rr.res, items, &opts).await?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", rr.res.gvk.kind),
            "apiVersion": rr.res.gvk.api_version(),
            "metadata": {"resourceVersion": rev.to_string()},
            "items": deleted,
        }),
    ))
}
