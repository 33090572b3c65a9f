//! update (PUT), including the status and finalize subresources, and the commit path that
//! patch shares.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use peapod_store::Revision;
use serde_json::Value;

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use crate::state::SharedState;
use crate::{admission, body, object, respond};

pub async fn update(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let bytes = body::read(raw).await?;
    let mut obj = body::decode(&ctx.content_type, &bytes)?;
    body::check_type(&mut obj, &rr.res.gvk.api_version(), rr.res.gvk.kind)?;
    if ctx.query.strict()? {
        super::create::reject_unknown_fields(rr.res, &obj)?;
    }
    match object::name(&obj) {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        Some(_) => {}
        None => object::set_meta(&mut obj, "name", Value::String(name.to_string())),
    }
    let dry_run = ctx.query.dry_run()?;
    let ns = rr.namespace.as_deref();
    let Some((current, rev)) = ctx.state.objects.get(rr.res, ns, name).await? else {
        if rr.res.create_on_update && rr.subresource.is_none() {
            let created = super::create::create_object(ctx.state, rr.res, ns, obj, dry_run).await?;
            return Ok(respond::json(StatusCode::CREATED, &created));
        }
        return Err(ApiError::not_found(rr.res, name));
    };
    if let Some(want) = object::resource_version(&obj) {
        if want != rev.to_string() {
            return Err(ApiError::conflict(rr.res, name));
        }
    }
    let out = commit_update(
        ctx.state,
        rr.res,
        ns,
        name,
        current,
        rev,
        obj,
        rr.subresource.as_deref(),
        dry_run,
    )
    .await?;
    Ok(respond::json(StatusCode::OK, &out))
}

/// Applies the update rules to `new` against `old` and writes it if `old` is still current:
/// identity fields are kept, status and spec each change only through their own endpoint,
/// generation bumps on spec changes, defaults and validation run, and an object being
/// deleted goes away once its last finalizer is removed.
#[allow(clippy::too_many_arguments)]
pub async fn commit_update(
    state: &SharedState,
    res: &'static ResourceInfo,
    ns: Option<&str>,
    name: &str,
    old: Value,
    rev: Revision,
    incoming: Value,
    subresource: Option<&str>,
    dry_run: bool,
) -> ApiResult<Value> {
    let mut new = match subresource {
        // Status writes change only status (and labels/annotations are left as they were).
        Some("status") => {
            let mut n = old.clone();
            match incoming.get("status") {
                Some(s) => n["status"] = s.clone(),
                None => {
                    if let Some(m) = n.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            n
        }
        // Namespace finalize writes change only spec.finalizers.
        Some("finalize") => {
            let mut n = old.clone();
            n["spec"]["finalizers"] = incoming
                .get("spec")
                .and_then(|s| s.get("finalizers"))
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            n
        }
        _ => {
            let mut n = incoming;
            if res.has_status() {
                match old.get("status") {
                    Some(s) => n["status"] = s.clone(),
                    None => {
                        if let Some(m) = n.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            n
        }
    };
    keep_identity(&old, &mut new);
    admission::on_update(res, &mut new);
    let causes = admission::validate_update(res, &old, &new);
    if !causes.is_empty() {
        return Err(ApiError::invalid(res, name, causes));
    }
    let generation = object::meta(&old)
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let bumped = if object::spec_equal(&old, &new) {
        generation
    } else {
        generation + 1
    };
    object::set_meta(&mut new, "generation", Value::from(bumped));
    object::set_meta(&mut new, "resourceVersion", Value::String(rev.to_string()));
    if new == old {
        // Nothing changed: no write, same resourceVersion (as Kubernetes does).
        return Ok(old);
    }
    if dry_run {
        return Ok(new);
    }
    if object::is_deleting(&new) && object::finalizers(&new).is_empty() {
        return state.objects.delete(res, ns, name, rev).await;
    }
    state.objects.update(res, ns, name, rev, &new).await
}

/// Fields a client cannot change through update.
fn keep_identity(old: &Value, new: &mut Value) {
    let Some(om) = object::meta(old).cloned() else {
        return;
    };
    let nm = object::meta_mut(new);
    for f in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match om.get(f) {
            Some(v) => {
                nm.insert(f.to_string(), v.clone());
            }
            None => {
                nm.remove(f);
            }
        }
    }
    nm.remove("selfLink");
}
