//! patch: JSON patch, merge patch, strategic merge patch and (create-or-merge) server-side
//! apply. The patched object then takes the same path as an update; a write that loses a
//! race is retried on the fresh object unless the patch pinned a resourceVersion.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use peapod_apimachinery::patch;
use serde_json::Value;

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use crate::{body, respond};

const RETRIES: usize = 5;

#[derive(Clone, Copy, PartialEq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn patch_type(ct: &str) -> ApiResult<PatchType> {
    Ok(match ct {
        "application/json-patch+json" => PatchType::Json,
        "application/merge-patch+json" => PatchType::Merge,
        "application/strategic-merge-patch+json" => PatchType::Strategic,
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => PatchType::Apply,
        other => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {other:?})"),
            ))
        }
    })
}

fn apply_patch(res: &ResourceInfo, doc: &Value, p: &Value, kind: PatchType) -> ApiResult<Value> {
    let bad = |e: patch::PatchError| ApiError::new(422, "Invalid", e.to_string());
    match kind {
        PatchType::Json => patch::json_patch(doc, p).map_err(bad),
        PatchType::Merge => Ok(patch::merge_patch(doc, p)),
        // Server-side apply is approximated as a strategic merge of the applied config.
        PatchType::Strategic | PatchType::Apply => {
            patch::strategic_merge_patch(doc, p, res.gvk).map_err(bad)
        }
    }
}

pub async fn patch(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let ns = rr.namespace.as_deref();
    let kind = patch_type(&ctx.content_type)?;
    let bytes = body::read(raw).await?;
    let p = match kind {
        PatchType::Apply => body::parse_yaml(&bytes)?,
        _ => body::parse_json(&bytes)?,
    };
    if kind != PatchType::Json && !p.is_object() {
        return Err(ApiError::bad_request("the patch must be a JSON object"));
    }
    let dry_run = ctx.query.dry_run()?;
    let strict = ctx.query.strict()?;
    let pinned = p
        .get("metadata")
        .and_then(|m| m.get("resourceVersion"))
        .and_then(Value::as_str)
        .map(String::from);
    for attempt in 0..RETRIES {
        let Some((current, rev)) = ctx.state.objects.get(rr.res, ns, name).await? else {
            if kind == PatchType::Apply && rr.subresource.is_none() {
                let mut obj = p.clone();
                body::check_type(&mut obj, &rr.res.gvk.api_version(), rr.res.gvk.kind)?;
                if strict {
                    super::create::reject_unknown_fields(rr.res, &obj)?;
                }
                let created =
                    super::create::create_object(ctx.state, rr.res, ns, obj, dry_run).await?;
                return Ok(respond::json(StatusCode::CREATED, &created));
            }
            return Err(ApiError::not_found(rr.res, name));
        };
        if let Some(want) = &pinned {
            if *want != rev.to_string() {
                return Err(ApiError::conflict(rr.res, name));
            }
        }
        let mut patched = apply_patch(rr.res, &current, &p, kind)?;
        body::check_type(&mut patched, &rr.res.gvk.api_version(), rr.res.gvk.kind)?;
        if strict {
            super::create::reject_unknown_fields(rr.res, &patched)?;
        }
        match super::update::commit_update(
            ctx.state,
            rr.res,
            ns,
            name,
            current,
            rev,
            patched,
            rr.subresource.as_deref(),
            dry_run,
        )
        .await
        {
            Ok(out) => return Ok(respond::json(StatusCode::OK, &out)),
            Err(e)
                if e.code == 409
                    && e.reason == "Conflict"
                    && pinned.is_none()
                    && attempt + 1 < RETRIES =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(rr.res, name))
}
