//! delete: preconditions, then either removal or a mark (graceful pod deletion, finalizers,
//! propagation policies, a namespace's own finalizers) written by compare-and-swap.

use serde_json::{json, Value};

use super::ObjectRef;
use crate::errors::{ApiError, ApiResult};
use crate::object_meta;
use crate::registry::{self, ResourceInfo};
use crate::state::SharedState;

/// DeleteOptions as the pipeline reads them (query and body already merged).
#[derive(Debug, Default, Clone)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    pub propagation: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
    /// The deprecated `orphanDependents`, as sent (only an explicit `false` changes the
    /// answer: 202 while the deletion is still in progress).
    pub orphan_dependents: Option<bool>,
}

/// The object after a delete, and whether it is gone (or only marked as being deleted).
#[derive(Debug)]
pub struct Deletion {
    pub object: Value,
    pub gone: bool,
}

/// Deletes (or starts deleting) one object.
pub async fn delete(
    state: &SharedState,
    target: ObjectRef<'_>,
    opts: &DeleteOptions,
) -> ApiResult<Deletion> {
    let (res, ns, name) = (target.res, target.namespace, target.name);
    for _ in 0..super::RETRIES {
        let (current, rev) = state.objects.must_get(res, ns, name).await?;
        check_preconditions(res, name, &current, &rev.to_string(), opts)?;
        let result = match plan(res, &current, opts) {
            Plan::Remove => {
                if opts.dry_run {
                    return Ok(Deletion {
                        object: current,
                        gone: true,
                    });
                }
                state
                    .objects
                    .delete(res, ns, name, rev)
                    .await
                    .map(|o| Deletion {
                        object: o,
                        gone: true,
                    })
            }
            Plan::Mark(marked) => {
                if marked == current || opts.dry_run {
                    return Ok(Deletion {
                        object: marked,
                        gone: false,
                    });
                }
                state
                    .objects
                    .update(res, ns, name, rev, &marked)
                    .await
                    .map(|o| Deletion {
                        object: o,
                        gone: false,
                    })
            }
        };
        match result {
            Err(e) if e.code == 409 => continue,
            other => return other,
        }
    }
    Err(ApiError::conflict(res, name))
}

/// Deletes each listed object of one resource (deletecollection); answers the ones deleted,
/// as they were listed. One deleted meanwhile by someone else is skipped.
pub async fn delete_listed(
    state: &SharedState,
    res: &'static ResourceInfo,
    items: Vec<Value>,
    opts: &DeleteOptions,
) -> ApiResult<Vec<Value>> {
    let mut deleted = Vec::new();
    for item in items {
        let name = object_meta::name(&item).unwrap_or_default().to_string();
        let ns = object_meta::namespace(&item).map(String::from);
        let target = ObjectRef {
            res,
            namespace: ns.as_deref(),
            name: &name,
        };
        match delete(state, target, opts).await {
            Ok(_) => deleted.push(item),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// The namespace lifecycle's last step, once the namespace is empty: removes it unless a
/// finalizer still holds it. Not `delete`, which would only mark it again while its
/// `spec.finalizers` are set.
pub async fn remove_namespace(state: &SharedState, name: &str) -> ApiResult<()> {
    let nsres = registry::core("namespaces");
    for _ in 0..super::RETRIES {
        let Ok(Some((obj, rev))) = state.objects.get(nsres, None, name).await else {
            return Ok(());
        };
        if !object_meta::finalizers(&obj).is_empty() {
            return Ok(()); // Other finalizers still hold it.
        }
        match state.objects.delete(nsres, None, name, rev).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn check_preconditions(
    res: &ResourceInfo,
    name: &str,
    current: &Value,
    rev: &str,
    opts: &DeleteOptions,
) -> ApiResult<()> {
    if let Some(uid) = &opts.precondition_uid {
        let have = object_meta::uid(current).unwrap_or("");
        if uid != have {
            return Err(ApiError::conflict_msg(
                res,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"
                ),
            ));
        }
    }
    if let Some(want) = &opts.precondition_rv {
        if want != rev {
            return Err(ApiError::conflict_msg(
                res,
                name,
                &format!("Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rev}"),
            ));
        }
    }
    Ok(())
}

enum Plan {
    /// Remove from storage now.
    Remove,
    /// Keep, marked as being deleted (graceful pod deletion, finalizers).
    Mark(Value),
}

fn plan(res: &ResourceInfo, current: &Value, opts: &DeleteOptions) -> Plan {
    let now = chrono::Utc::now();
    let mut marked = current.clone();
    let deleting = object_meta::is_deleting(current);
    if res.gvk.kind == "Pod" && res.gvk.group.is_empty() {
        if let Some(grace) = pod_grace_period(current, opts) {
            // The node agent stops the containers, then deletes with grace 0.
            let deadline = now + chrono::Duration::seconds(grace);
            let current_grace = object_meta::meta(current)
                .and_then(|m| m.get("deletionGracePeriodSeconds"))
                .and_then(Value::as_i64);
            if !deleting || current_grace.is_some_and(|g| grace < g) {
                object_meta::set_meta(
                    &mut marked,
                    "deletionTimestamp",
                    json!(object_meta::rfc3339(deadline)),
                );
                object_meta::set_meta(&mut marked, "deletionGracePeriodSeconds", json!(grace));
            }
            return Plan::Mark(marked);
        }
    }
    let mut finalizers = object_meta::finalizers(current);
    match opts.propagation.as_deref() {
        Some("Orphan") if !finalizers.iter().any(|f| f == "orphan") => {
            finalizers.push("orphan".into())
        }
        Some("Foreground") if !finalizers.iter().any(|f| f == "foregroundDeletion") => {
            finalizers.push("foregroundDeletion".into())
        }
        _ => {}
    }
    let is_namespace = res.gvk.kind == "Namespace" && res.gvk.group.is_empty();
    let ns_finalizers = is_namespace
        && current
            .get("spec")
            .and_then(|s| s.get("finalizers"))
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    if finalizers.is_empty() && !ns_finalizers {
        return Plan::Remove;
    }
    if !deleting {
        object_meta::set_meta(
            &mut marked,
            "deletionTimestamp",
            json!(object_meta::rfc3339(now)),
        );
        object_meta::set_meta(&mut marked, "deletionGracePeriodSeconds", json!(0));
    }
    if !finalizers.is_empty() {
        object_meta::set_meta(&mut marked, "finalizers", json!(finalizers));
    }
    if is_namespace {
        marked["status"]["phase"] = json!("Terminating");
    }
    Plan::Mark(marked)
}

/// The grace period a pod's deletion waits for its containers to stop, when it waits at all:
/// only a pod on a node that has not finished (otherwise nothing runs to be stopped).
fn pod_grace_period(pod: &Value, opts: &DeleteOptions) -> Option<i64> {
    let spec = pod.get("spec");
    let on_node = spec
        .and_then(|s| s.get("nodeName"))
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = pod
        .get("status")
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str);
    let terminal = matches!(phase, Some("Succeeded") | Some("Failed"));
    let default_grace = spec
        .and_then(|s| s.get("terminationGracePeriodSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(30);
    let grace = if !on_node || terminal {
        0
    } else {
        opts.grace_period.unwrap_or(default_grace)
    };
    (grace > 0).then_some(grace)
}
