//! Small helpers for walking and editing `serde_json::Value` objects without panicking.

use serde_json::{Map, Value};

/// The string at `path` (object keys), if every step exists and the leaf is a string.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path)?.as_str()
}

/// The value at `path` (object keys), if every step exists.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |current, key| current.get(*key))
}

/// The object at `key` inside `parent`, created (or replaced, when it is `null` or not an object)
/// so callers can insert into it.
pub(crate) fn object_entry<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> &'a mut Map<String, Value> {
    let slot = parent.entry(key.to_string()).or_insert(Value::Null);
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("slot was just made an object"),
    }
}

/// The array at `key` inside `parent`, created when absent or `null`. Errors when the field holds
/// something other than a list, so malformed input is reported instead of being overwritten.
pub(crate) fn array_entry<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> Result<&'a mut Vec<Value>, String> {
    let slot = parent.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(items) => Ok(items),
        _ => Err(format!("{key} must be a list")),
    }
}

/// The list at `key` of `object`, empty when absent or `null`; an error for any other type.
pub(crate) fn list<'a>(object: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key} must be a list")),
    }
}

/// `metadata.<key>` as a string map (labels, annotations); `None` when absent.
pub(crate) fn metadata_map<'a>(object: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    at(object, &["metadata", key])?.as_object()
}
