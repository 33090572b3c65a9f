//! create (POST to a collection).

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::registry::{self, ResourceInfo};
use crate::state::SharedState;
use crate::{admission, body, object, respond};

pub async fn create(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let bytes = body::read(raw).await?;
    let mut obj = body::decode(&ctx.content_type, &bytes)?;
    let rr = ctx.rr;
    body::check_type(&mut obj, &rr.res.gvk.api_version(), rr.res.gvk.kind)?;
    if ctx.query.strict()? {
        reject_unknown_fields(rr.res, &obj)?;
    }
    let dry_run = ctx.query.dry_run()?;
    let created = create_object(ctx.state, rr.res, rr.namespace.as_deref(), obj, dry_run).await?;
    Ok(respond::json(StatusCode::CREATED, &created))
}

pub fn reject_unknown_fields(res: &ResourceInfo, obj: &Value) -> ApiResult<()> {
    let unknown = admission::unknown_fields(res, obj);
    if unknown.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    Err(ApiError::bad_request(format!(
        "strict decoding error: {}",
        list.join(", ")
    )))
}

/// Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_suffix() -> String {
    (0..5)
        .map(|_| NAME_ALPHABET[rand::random::<u32>() as usize % NAME_ALPHABET.len()] as char)
        .collect()
}

/// The full create path: identity, defaults, admission, validation, namespace checks, store.
pub async fn create_object(
    state: &SharedState,
    res: &'static ResourceInfo,
    url_namespace: Option<&str>,
    mut obj: Value,
    dry_run: bool,
) -> ApiResult<Value> {
    let body_ns = object::namespace(&obj).map(String::from);
    let namespace = if res.namespaced {
        match (url_namespace, body_ns.as_deref()) {
            (Some(u), Some(b)) if u != b => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            (Some(u), _) => Some(u.to_string()),
            (None, Some(b)) => Some(b.to_string()),
            (None, None) => return Err(ApiError::bad_request("the namespace of the object is required")),
        }
    } else {
        None
    };
    {
        let meta = object::meta_mut(&mut obj);
        match &namespace {
            Some(ns) => {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            None => {
                meta.remove("namespace");
            }
        }
        if meta
            .get("resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        meta.remove("resourceVersion");
        let has_name = meta
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        if !has_name {
            if let Some(g) = meta
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                let name = format!("{g}{}", generate_suffix());
                meta.insert("name".into(), Value::String(name));
            }
        }
        meta.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        meta.insert(
            "creationTimestamp".into(),
            Value::String(object::now_rfc3339()),
        );
        meta.insert("generation".into(), Value::from(1));
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        meta.remove("selfLink");
    }
    admission::on_create(res, &mut obj);
    let mut preset_conflicts = Vec::new();
    if res.gvk == peapod_apimachinery::gvk::kinds::POD {
        if let Some(ns) = &namespace {
            preset_conflicts = admission::admit_pod_with_objects(state, ns, &mut obj).await?;
        }
    }
    let name = object::name(&obj).unwrap_or_default().to_string();
    let causes = admission::validate_create(res, &obj);
    if !causes.is_empty() {
        return Err(ApiError::invalid(res, &name, causes));
    }
    if let Some(ns) = &namespace {
        check_namespace_open(state, ns).await?;
    }
    if dry_run {
        return Ok(obj);
    }
    let created = state
        .objects
        .create(res, namespace.as_deref(), &name, &obj)
        .await?;
    for (preset, message) in preset_conflicts {
        crate::events::record(
            state,
            &created,
            "Warning",
            "FailedPodPreset",
            &format!("Conflict on pod preset {preset}: {message}"),
            "podpreset-admission",
        )
        .await;
    }
    Ok(created)
}

/// Objects can be created only in an existing namespace that is not being deleted.
async fn check_namespace_open(state: &SharedState, ns: &str) -> ApiResult<()> {
    let Some(nsres) = registry::find("", "v1", "namespaces") else {
        return Ok(());
    };
    match state.objects.get(nsres, None, ns).await? {
        None => Err(ApiError::not_found(nsres, ns)),
        Some((n, _)) if object::is_deleting(&n) => Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        ))),
        Some(_) => Ok(()),
    }
}
