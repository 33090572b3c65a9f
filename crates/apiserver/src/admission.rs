//! The admission chain: defaulting, per-type create preparation, pod admission, and
//! validation, delegated to the policy crate.

use serde_json::Value;

use crate::errors::Cause;
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
    causes(peapod_apipolicy::validation::validate_update(res.gvk, old, new))
}

pub fn unknown_fields(res: &ResourceInfo, obj: &Value) -> Vec<String> {
    peapod_apipolicy::unknown_fields(res.gvk, obj)
}
