//! The two standard patch formats, delegated to the json-patch crate.

use serde_json::Value;

use super::PatchError;

/// Applies an RFC 6902 JSON patch (`application/json-patch+json`). A patch that is not a list of
/// operations is a 400; an operation that fails (missing path, failed `test`) is a 422.
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let operations: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError::bad(format!("invalid JSON patch: {e}")))?;
    let mut result = doc.clone();
    json_patch::patch(&mut result, &operations.0).map_err(|e| {
        PatchError::unprocessable(format!("the JSON patch could not be applied: {e}"))
    })?;
    Ok(result)
}

/// Applies an RFC 7386 JSON merge patch (`application/merge-patch+json`): objects merge key by
/// key, `null` deletes a key, anything else (lists included) replaces.
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    let mut result = doc.clone();
    json_patch::merge(&mut result, patch);
    result
}
