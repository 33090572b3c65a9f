//! delete and deletecollection, with graceful pod deletion, finalizers, preconditions and
//! propagation policies.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::filter::Filter;
use crate::registry::ResourceInfo;
use crate::state::SharedState;
use crate::{body, object, respond};

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

impl DeleteOptions {
    fn from_request(ctx: &Ctx<'_>, bytes: &[u8]) -> ApiResult<DeleteOptions> {
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
}

pub async fn delete(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let bytes = body::read(raw).await?;
    let opts = DeleteOptions::from_request(ctx, &bytes)?;
    let name = rr.name.as_deref().unwrap_or_default();
    let (obj, gone) =
        delete_object(ctx.state, rr.res, rr.namespace.as_deref(), name, &opts).await?;
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
    details.insert("uid".into(), json!(object::uid(&obj).unwrap_or("")));
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

/// Deletes (or starts deleting) one object. Returns the object and whether it is gone.
pub async fn delete_object(
    state: &SharedState,
    res: &'static ResourceInfo,
    ns: Option<&str>,
    name: &str,
    opts: &DeleteOptions,
) -> ApiResult<(Value, bool)> {
    for _ in 0..5 {
        let (current, rev) = state.objects.must_get(res, ns, name).await?;
        if let Some(uid) = &opts.precondition_uid {
            let have = object::uid(&current).unwrap_or("");
            if uid != have {
                return Err(ApiError::conflict_msg(
                    res,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"),
                ));
            }
        }
        if let Some(want) = &opts.precondition_rv {
            if *want != rev.to_string() {
                return Err(ApiError::conflict_msg(
                    res,
                    name,
                    &format!("Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rev}"),
                ));
            }
        }
        let plan = plan(res, &current, opts);
        let result = match plan {
            Plan::Remove => {
                if opts.dry_run {
                    return Ok((current, true));
                }
                state
                    .objects
                    .delete(res, ns, name, rev)
                    .await
                    .map(|o| (o, true))
            }
            Plan::Mark(marked) => {
                if marked == current || opts.dry_run {
                    return Ok((marked, false));
                }
                state
                    .objects
                    .update(res, ns, name, rev, &marked)
                    .await
                    .map(|o| (o, false))
            }
        };
        match result {
            Err(e) if e.code == 409 => continue,
            other => return other,
        }
    }
    Err(ApiError::conflict(res, name))
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
    let deleting = object::is_deleting(current);
    if res.gvk.kind == "Pod" && res.gvk.group.is_empty() {
        let spec = current.get("spec");
        let on_node = spec
            .and_then(|s| s.get("nodeName"))
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let phase = current
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
        if grace > 0 {
            // The node agent stops the containers, then deletes with grace 0.
            let deadline = now + chrono::Duration::seconds(grace);
            let current_grace = object::meta(current)
                .and_then(|m| m.get("deletionGracePeriodSeconds"))
                .and_then(Value::as_i64);
            if !deleting || current_grace.is_some_and(|g| grace < g) {
                object::set_meta(
                    &mut marked,
                    "deletionTimestamp",
                    json!(object::rfc3339(deadline)),
                );
                object::set_meta(&mut marked, "deletionGracePeriodSeconds", json!(grace));
            }
            return Plan::Mark(marked);
        }
    }
    let mut finalizers = object::finalizers(current);
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
        object::set_meta(
            &mut marked,
            "deletionTimestamp",
            json!(object::rfc3339(now)),
        );
        object::set_meta(&mut marked, "deletionGracePeriodSeconds", json!(0));
    }
    if !finalizers.is_empty() {
        object::set_meta(&mut marked, "finalizers", json!(finalizers));
    }
    if is_namespace {
        marked["status"]["phase"] = json!("Terminating");
    }
    Plan::Mark(marked)
}

pub async fn delete_collection(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let bytes = body::read(raw).await?;
    let opts = DeleteOptions::from_request(ctx, &bytes)?;
    let filter = Filter::from_query(rr.res, ctx.query)?;
    let (items, rev, _) = super::read::collect(ctx, &filter, 0).await?;
    let mut deleted = Vec::new();
    for item in items {
        let name = object::name(&item).unwrap_or_default().to_string();
        let ns = object::namespace(&item).map(String::from);
        // The list holds the objects as they were listed, before deletion (as upstream).
        match delete_object(ctx.state, rr.res, ns.as_deref(), &name, &opts).await {
            Ok(_) => deleted.push(item),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
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
