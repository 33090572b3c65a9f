//! update: the update rules applied to a replacement object, and replace (PUT), which reads
//! the current object first (or creates it, for kinds created on update).

use peapod_store::Revision;
use serde_json::Value;

use super::{create, CreateRequest, ObjectRef};
use crate::admission;
use crate::errors::{ApiError, ApiResult};
use crate::object_meta;
use crate::state::SharedState;

/// Which part of an object a write may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Everything but status (the main resource).
    Whole,
    /// Only status (the `status` subresource).
    Status,
    /// Only a Namespace's `spec.finalizers` (the `finalize` subresource).
    Finalize,
}

impl Part {
    /// The part a subresource's URL writes.
    pub fn of_subresource(subresource: Option<&str>) -> Part {
        match subresource {
            Some("status") => Part::Status,
            Some("finalize") => Part::Finalize,
            _ => Part::Whole,
        }
    }
}

/// An object as read from the store, with the revision a write must still find there.
pub struct Current {
    pub object: Value,
    pub revision: Revision,
}

pub struct UpdateRequest<'a> {
    pub target: ObjectRef<'a>,
    pub current: Current,
    /// The object the client wants (only `part` of it is taken).
    pub object: Value,
    pub part: Part,
    pub dry_run: bool,
}

/// Applies the update rules to the incoming object against the current one and writes it if
/// the current one is still current: identity fields are kept, status and spec each change
/// only through their own endpoint, generation bumps on spec changes, defaults and validation
/// run, and an object being deleted goes away once its last finalizer is removed.
pub async fn update(state: &SharedState, req: UpdateRequest<'_>) -> ApiResult<Value> {
    let UpdateRequest {
        target,
        current: Current {
            object: old,
            revision: rev,
        },
        object: incoming,
        part,
        dry_run,
    } = req;
    let res = target.res;
    let mut new = take_part(res.has_status(), &old, incoming, part);
    keep_identity(&old, &mut new);
    admission::on_update(res, &mut new);
    let causes = admission::validate_update(res, &old, &new);
    if !causes.is_empty() {
        return Err(ApiError::invalid(res, target.name, causes));
    }
    let generation = object_meta::meta(&old)
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let bumped = if object_meta::spec_equal(&old, &new) {
        generation
    } else {
        generation + 1
    };
    object_meta::set_meta(&mut new, "generation", Value::from(bumped));
    object_meta::set_meta(&mut new, "resourceVersion", Value::String(rev.to_string()));
    if new == old {
        // Nothing changed: no write, same resourceVersion (as Kubernetes does).
        return Ok(old);
    }
    if dry_run {
        return Ok(new);
    }
    let (ns, name) = (target.namespace, target.name);
    if object_meta::is_deleting(&new) && object_meta::finalizers(&new).is_empty() {
        return state.objects.delete(res, ns, name, rev).await;
    }
    state.objects.update(res, ns, name, rev, &new).await
}

/// Writes an object the server owns exactly as given, if it is still at `revision`: no update
/// rules (defaults, validation, generation). For objects only the server maintains, such as
/// the `kubernetes` Endpoints.
pub async fn overwrite(
    state: &SharedState,
    target: ObjectRef<'_>,
    revision: Revision,
    object: &Value,
) -> ApiResult<Value> {
    state
        .objects
        .update(target.res, target.namespace, target.name, revision, object)
        .await
}

/// The object to write: `old` with the part this endpoint may change taken from `incoming`.
fn take_part(has_status: bool, old: &Value, incoming: Value, part: Part) -> Value {
    match part {
        // Status writes change only status (and labels/annotations are left as they were).
        Part::Status => {
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
        Part::Finalize => {
            let mut n = old.clone();
            n["spec"]["finalizers"] = incoming
                .get("spec")
                .and_then(|s| s.get("finalizers"))
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            n
        }
        Part::Whole => {
            let mut n = incoming;
            if has_status {
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
    }
}

/// Fields a client cannot change through update.
fn keep_identity(old: &Value, new: &mut Value) {
    let Some(om) = object_meta::meta(old).cloned() else {
        return;
    };
    let nm = object_meta::meta_mut(new);
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

/// A write that may have created the object rather than changed it (PUT of a missing object
/// whose kind allows it, server-side apply of a missing object).
#[derive(Debug)]
pub enum Written {
    Created(Value),
    Updated(Value),
}

pub struct ReplaceRequest<'a> {
    pub target: ObjectRef<'a>,
    /// The whole replacement, its name already checked against the target's.
    pub object: Value,
    pub part: Part,
    pub dry_run: bool,
}

/// PUT: the object must exist (unless its kind is created on update) and, when the
/// replacement names a resourceVersion, still be at that revision.
pub async fn replace(state: &SharedState, req: ReplaceRequest<'_>) -> ApiResult<Written> {
    let ReplaceRequest {
        target,
        object,
        part,
        dry_run,
    } = req;
    let (res, ns, name) = (target.res, target.namespace, target.name);
    let Some((current, rev)) = state.objects.get(res, ns, name).await? else {
        if res.create_on_update && part == Part::Whole {
            let req = CreateRequest {
                res,
                namespace: ns,
                object,
                dry_run,
            };
            return create(state, req).await.map(Written::Created);
        }
        return Err(ApiError::not_found(res, name));
    };
    if let Some(want) = object_meta::resource_version(&object) {
        if want != rev.to_string() {
            return Err(ApiError::conflict(res, name));
        }
    }
    let req = UpdateRequest {
        target,
        current: Current {
            object: current,
            revision: rev,
        },
        object,
        part,
        dry_run,
    };
    update(state, req).await.map(Written::Updated)
}
