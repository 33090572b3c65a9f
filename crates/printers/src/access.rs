//! Tolerant readers for objects held as `serde_json::Value`.
//!
//! Printers must never fail on odd objects, so every reader falls back to the
//! zero value Kubernetes' typed structs would have had ("" / 0 / empty list).

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The value at `path`, if every step exists and the end is not `null`.
pub(crate) fn at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = obj;
    for key in path {
        cur = cur.get(key)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// True when `path` leads to a non-null value (Go: pointer field is non-nil).
pub(crate) fn has(obj: &Value, path: &[&str]) -> bool {
    at(obj, path).is_some()
}

/// The string at `path`, or "" when absent or not a string.
pub(crate) fn str_at<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    at(obj, path).and_then(Value::as_str).unwrap_or("")
}

/// The integer at `path`, or 0 when absent or not an integer.
pub(crate) fn int_at(obj: &Value, path: &[&str]) -> i64 {
    at(obj, path).map(as_int).unwrap_or(0)
}

/// An integer read the way a Go int32 field would decode; other types count as 0.
pub(crate) fn as_int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .unwrap_or(0)
}

/// The boolean at `path`, or false.
pub(crate) fn bool_at(obj: &Value, path: &[&str]) -> bool {
    at(obj, path).and_then(Value::as_bool).unwrap_or(false)
}

/// The array at `path`, or an empty slice.
pub(crate) fn list_at<'a>(obj: &'a Value, path: &[&str]) -> &'a [Value] {
    at(obj, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The number of entries of the map or list at `path` (0 when absent).
pub(crate) fn len_at(obj: &Value, path: &[&str]) -> usize {
    match at(obj, path) {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

/// The RFC 3339 timestamp at `path`; `None` when absent or unparsable (Go's zero time).
pub(crate) fn time_at(obj: &Value, path: &[&str]) -> Option<DateTime<Utc>> {
    let text = at(obj, path)?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `metadata.name`.
pub(crate) fn name(obj: &Value) -> &str {
    str_at(obj, &["metadata", "name"])
}

/// The string, or "<none>" when it is empty.
pub(crate) fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.to_string()
    }
}
