//! patch: the patch type from the Content-Type, the patch document from the body; the
//! storage pipeline applies it.

use axum::body::Body;
use axum::response::Response;

use super::Ctx;
use crate::body;
use crate::errors::{ApiError, ApiResult};
use crate::storage::{self, Part, PatchKind, PatchRequest};

fn patch_kind(ct: &str) -> ApiResult<PatchKind> {
    Ok(match ct {
        "application/json-patch+json" => PatchKind::Json,
        "application/merge-patch+json" => PatchKind::Merge,
        "application/strategic-merge-patch+json" => PatchKind::Strategic,
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => PatchKind::Apply,
        other => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {other:?})"),
            ))
        }
    })
}

pub async fn patch(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let kind = patch_kind(&ctx.content_type)?;
    let bytes = body::read(raw).await?;
    let p = match kind {
        PatchKind::Apply => body::parse_yaml(&bytes)?,
        _ => body::parse_json(&bytes)?,
    };
    if kind != PatchKind::Json && !p.is_object() {
        return Err(ApiError::bad_request("the patch must be a JSON object"));
    }
    let req = PatchRequest {
        target: ctx.object_ref(),
        patch: p,
        kind,
        part: Part::of_subresource(rr.subresource.as_deref()),
        dry_run: ctx.query.dry_run()?,
        strict: ctx.query.strict()?,
    };
    Ok(super::update::written(
        storage::patch(ctx.state, req).await?,
    ))
}
