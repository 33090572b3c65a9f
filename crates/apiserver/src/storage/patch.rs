//! patch: JSON patch, merge patch, strategic merge patch and (create-or-merge) server-side
//! apply. The patched object then takes the update path; a write that loses a race is retried
//! on the fresh object unless the patch pinned a resourceVersion.

use peapod_apimachinery::patch as patches;
use serde_json::Value;

use super::{create, update, CreateRequest, Current, ObjectRef, Part, UpdateRequest, Written};
use crate::errors::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use crate::state::SharedState;
use crate::{admission, body};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
    Apply,
}

pub struct PatchRequest<'a> {
    pub target: ObjectRef<'a>,
    pub patch: Value,
    pub kind: PatchKind,
    pub part: Part,
    pub dry_run: bool,
    /// Reject fields the kind does not have (`fieldValidation=Strict`).
    pub strict: bool,
}

pub async fn patch(state: &SharedState, req: PatchRequest<'_>) -> ApiResult<Written> {
    let PatchRequest {
        target,
        patch: p,
        kind,
        part,
        dry_run,
        strict,
    } = req;
    let (res, ns, name) = (target.res, target.namespace, target.name);
    let pinned = p
        .get("metadata")
        .and_then(|m| m.get("resourceVersion"))
        .and_then(Value::as_str)
        .map(String::from);
    for attempt in 0..super::RETRIES {
        let Some((current, rev)) = state.objects.get(res, ns, name).await? else {
            if kind == PatchKind::Apply && part == Part::Whole {
                let mut obj = p.clone();
                checked_body(res, &mut obj, strict)?;
                let req = CreateRequest {
                    res,
                    namespace: ns,
                    object: obj,
                    dry_run,
                };
                return create(state, req).await.map(Written::Created);
            }
            return Err(ApiError::not_found(res, name));
        };
        if let Some(want) = &pinned {
            if *want != rev.to_string() {
                return Err(ApiError::conflict(res, name));
            }
        }
        let mut patched = apply_patch(res, &current, &p, kind)?;
        checked_body(res, &mut patched, strict)?;
        let req = UpdateRequest {
            target,
            current: Current {
                object: current,
                revision: rev,
            },
            object: patched,
            part,
            dry_run,
        };
        match update(state, req).await {
            Ok(out) => return Ok(Written::Updated(out)),
            Err(e)
                if e.code == 409
                    && e.reason == "Conflict"
                    && pinned.is_none()
                    && attempt + 1 < super::RETRIES =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(res, name))
}

/// The patched object must still be of the target's type (and, when strict, have no
/// unknown fields), as a request body would.
fn checked_body(res: &ResourceInfo, obj: &mut Value, strict: bool) -> ApiResult<()> {
    body::check_type(obj, &res.gvk.api_version(), res.gvk.kind)?;
    if strict {
        admission::reject_unknown_fields(res, obj)?;
    }
    Ok(())
}

fn apply_patch(res: &ResourceInfo, doc: &Value, p: &Value, kind: PatchKind) -> ApiResult<Value> {
    let bad = |e: patches::PatchError| ApiError::new(422, "Invalid", e.to_string());
    match kind {
        PatchKind::Json => patches::json_patch(doc, p).map_err(bad),
        PatchKind::Merge => Ok(patches::merge_patch(doc, p)),
        // Server-side apply is approximated as a strategic merge of the applied config.
        PatchKind::Strategic | PatchKind::Apply => {
            patches::strategic_merge_patch(doc, p, res.gvk).map_err(bad)
        }
    }
}
