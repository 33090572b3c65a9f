//! create: the object's identity (namespace, name, uid, timestamps), admission, validation,
//! an open namespace, then a store create that fails if the key exists.

use serde_json::Value;

use crate::admission;
use crate::errors::{ApiError, ApiResult};
use crate::object_meta;
use crate::registry::{self, ResourceInfo};
use crate::state::SharedState;

pub struct CreateRequest<'a> {
    pub res: &'static ResourceInfo,
    /// The namespace on the URL, if any; the object's own namespace must agree with it.
    pub namespace: Option<&'a str>,
    pub object: Value,
    pub dry_run: bool,
}

/// Creates the object and records the events its admission asked for (PodPreset conflicts).
pub async fn create(state: &SharedState, req: CreateRequest<'_>) -> ApiResult<Value> {
    let inserted = insert(state, req).await?;
    for (preset, message) in &inserted.preset_conflicts {
        super::record_event(
            state,
            &inserted.object,
            "Warning",
            "FailedPodPreset",
            &format!("Conflict on pod preset {preset}: {message}"),
            "podpreset-admission",
        )
        .await;
    }
    Ok(inserted.object)
}

/// What `insert` stored, and the PodPreset conflicts (preset, message) to report about it.
pub(super) struct Inserted {
    pub object: Value,
    pub preset_conflicts: Vec<(String, String)>,
}

/// The create pipeline without recording events, so that recording an event (itself a create)
/// does not call back into `create`.
pub(super) async fn insert(state: &SharedState, req: CreateRequest<'_>) -> ApiResult<Inserted> {
    let CreateRequest {
        res,
        namespace: url_namespace,
        object: mut obj,
        dry_run,
    } = req;
    let namespace = namespace_of(res, url_namespace, &obj)?;
    stamp_identity(&mut obj, namespace.as_deref())?;
    admission::on_create(res, &mut obj);
    let mut preset_conflicts = Vec::new();
    if res.gvk == peapod_apimachinery::gvk::kinds::POD {
        if let Some(ns) = &namespace {
            preset_conflicts = admission::admit_pod_with_objects(state, ns, &mut obj).await?;
        }
    }
    let name = object_meta::name(&obj).unwrap_or_default().to_string();
    let causes = admission::validate_create(res, &obj);
    if !causes.is_empty() {
        return Err(ApiError::invalid(res, &name, causes));
    }
    if let Some(ns) = &namespace {
        check_namespace_open(state, ns).await?;
    }
    if dry_run {
        return Ok(Inserted {
            object: obj,
            preset_conflicts: Vec::new(),
        });
    }
    let object = state
        .objects
        .create(res, namespace.as_deref(), &name, &obj)
        .await?;
    Ok(Inserted {
        object,
        preset_conflicts,
    })
}

/// The namespace the object goes in: the URL's and the object's must agree; cluster-scoped
/// objects have none.
fn namespace_of(
    res: &ResourceInfo,
    url_namespace: Option<&str>,
    obj: &Value,
) -> ApiResult<Option<String>> {
    if !res.namespaced {
        return Ok(None);
    }
    match (url_namespace, object_meta::namespace(obj)) {
        (Some(u), Some(b)) if u != b => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(u), _) => Ok(Some(u.to_string())),
        (None, Some(b)) => Ok(Some(b.to_string())),
        (None, None) => Err(ApiError::bad_request(
            "the namespace of the object is required",
        )),
    }
}

/// Sets what the server owns in a new object's metadata: namespace, a generated name, uid,
/// creation time, generation 1; clears what only the server may set later.
fn stamp_identity(obj: &mut Value, namespace: Option<&str>) -> ApiResult<()> {
    let meta = object_meta::meta_mut(obj);
    match namespace {
        Some(ns) => {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
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
        Value::String(object_meta::now_rfc3339()),
    );
    meta.insert("generation".into(), Value::from(1));
    meta.remove("deletionTimestamp");
    meta.remove("deletionGracePeriodSeconds");
    meta.remove("selfLink");
    Ok(())
}

/// Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_suffix() -> String {
    (0..5)
        .map(|_| NAME_ALPHABET[rand::random::<u32>() as usize % NAME_ALPHABET.len()] as char)
        .collect()
}

/// Objects can be created only in an existing namespace that is not being deleted.
async fn check_namespace_open(state: &SharedState, ns: &str) -> ApiResult<()> {
    let Some(nsres) = registry::find("", "v1", "namespaces") else {
        return Ok(());
    };
    match state.objects.get(nsres, None, ns).await? {
        None => Err(ApiError::not_found(nsres, ns)),
        Some((n, _)) if object_meta::is_deleting(&n) => Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        ))),
        Some(_) => Ok(()),
    }
}
