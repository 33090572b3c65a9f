//! The admission chain: defaulting, per-type create preparation, pod admission, and
//! validation, delegated to the policy crate.

use serde_json::Value;

use crate::errors::{ApiError, ApiResult, Cause};
use crate::registry::ResourceInfo;

/// Defaults and create-time preparation for a new object (uid etc. already set).
pub fn on_create(res: &ResourceInfo, obj: &mut Value) {
    peapod_apipolicy::apply_defaults(res.gvk, obj);
    if res.gvk == peapod_apimachinery::gvk::kinds::POD {
        peapod_apipolicy::admit_pod(obj);
    }
    peapod_apipolicy::prepare_for_create(res.gvk, obj);
}

/// Defaults for a replacement object.
pub fn on_update(res: &ResourceInfo, obj: &mut Value) {
    peapod_apipolicy::apply_defaults(res.gvk, obj);
}

fn causes(v: Vec<peapod_apipolicy::validation::FieldCause>) -> Vec<Cause> {
    v.into_iter()
        .map(|c| Cause {
            reason: c.reason.to_string(),
            field: c.field,
            message: c.message,
        })
        .collect()
}

pub fn validate_create(res: &ResourceInfo, obj: &Value) -> Vec<Cause> {
    causes(peapod_apipolicy::validation::validate_create(res.gvk, obj))
}

pub fn validate_update(res: &ResourceInfo, old: &Value, new: &Value) -> Vec<Cause> {
    causes(peapod_apipolicy::validation::validate_update(
        res.gvk, old, new,
    ))
}

/// Strict field validation: a 400 naming every field the kind does not have.
pub fn reject_unknown_fields(res: &ResourceInfo, obj: &Value) -> ApiResult<()> {
    let unknown = peapod_apipolicy::unknown_fields(res.gvk, obj);
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

/// Pod admission that needs other objects: the ServiceAccount (token volume) and the
/// namespace's PodPresets. Returns preset conflicts, to be recorded as events.
pub async fn admit_pod_with_objects(
    state: &crate::state::SharedState,
    ns: &str,
    pod: &mut Value,
) -> ApiResult<Vec<(String, String)>> {
    use crate::registry;
    let sa_res = registry::core("serviceaccounts");
    let sa_name = peapod_admission::service_account_name(pod).to_string();
    let sa = state
        .objects
        .get(sa_res, Some(ns), &sa_name)
        .await?
        .map(|(v, _)| v);
    peapod_admission::admit_service_account(pod, sa.as_ref()).map_err(ApiError::forbidden)?;
    let presets_res =
        registry::find_kind(&peapod_apimachinery::gvk::kinds::POD_PRESET).expect("registered");
    let list = state
        .objects
        .store
        .list(&presets_res.list_prefix(Some(ns)), None, 0)
        .await?;
    let mut conflicts = Vec::new();
    if !list.kvs.is_empty() {
        let presets: Vec<Value> = list
            .kvs
            .iter()
            .filter_map(|kv| crate::object_store::decode(kv).ok())
            .collect();
        conflicts = peapod_admission::apply_pod_presets(pod, &presets).conflicts;
    }
    // Volumes and mounts added above get their API defaults too.
    peapod_apipolicy::apply_defaults(peapod_apimachinery::gvk::kinds::POD, pod);
    Ok(conflicts)
}
