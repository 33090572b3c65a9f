//! The admission chain: defaulting, per-type create preparation, pod admission, and
//! validation, delegated to the policy crate.

use serde_json::Value;

use crate::errors::Cause;
use crate::registry::ResourceInfo;

/// Defaults and create-time preparation for a new object (uid etc. already set).
pub fn on_create(res: &ResourceInfo, obj: &mut Value) {
    let _ = (res, obj); // TEMP until policy lands
}

/// Defaults for a replacement object.
pub fn on_update(res: &ResourceInfo, obj: &mut Value) {
    let _ = (res, obj);
}


pub fn validate_create(res: &ResourceInfo, obj: &Value) -> Vec<Cause> {
    let _ = (res, obj); vec![]
}

pub fn validate_update(res: &ResourceInfo, old: &Value, new: &Value) -> Vec<Cause> {
    let _ = (res, old, new); vec![]
}

pub fn unknown_fields(res: &ResourceInfo, obj: &Value) -> Vec<String> {
    let _ = (res, obj); vec![]
}
