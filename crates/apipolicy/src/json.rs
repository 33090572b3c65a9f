//! Small accessors over `serde_json::Value` that never panic on unexpected shapes.

use serde_json::{Map, Value};

/// Follows a chain of object keys.
pub fn at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in keys {
        cur = cur.as_object()?.get(*k)?;
    }
    Some(cur)
}

pub fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    at(v, keys)?.as_str()
}

pub fn obj_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Map<String, Value>> {
    at(v, keys)?.as_object()
}

pub fn arr_at<'a>(v: &'a Value, keys: &[&str]) -> &'a [Value] {
    at(v, keys)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn i64_at(v: &Value, keys: &[&str]) -> Option<i64> {
    at(v, keys)?.as_i64()
}

pub fn bool_at(v: &Value, keys: &[&str]) -> Option<bool> {
    at(v, keys)?.as_bool()
}

/// True when the value carries no information (null, "", [], {}) — how Go's omitempty sees it.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Sets `key` to `value` when it is absent, null or an empty string (Go's zero value).
pub fn default_str(obj: &mut Map<String, Value>, key: &str, value: &str) {
    let unset = match obj.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    if unset {
        obj.insert(key.to_string(), Value::String(value.to_string()));
    }
}

/// Sets `key` when it is absent or null (pointer fields in Go).
pub fn default_value(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.to_string(), value);
    }
}

/// Sets an integer `key` when it is absent, null or zero (non-pointer ints in Go).
pub fn default_nonzero(obj: &mut Map<String, Value>, key: &str, value: i64) {
    let unset = match obj.get(key) {
        None | Some(Value::Null) => true,
        Some(v) => v.as_i64() == Some(0),
    };
    if unset {
        obj.insert(key.to_string(), Value::from(value));
    }
}

/// Returns the object at `key`, creating `{}` when absent or null. None when it is another type.
pub fn child_obj<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.to_string(), Value::Object(Map::new()));
    }
    obj.get_mut(key)?.as_object_mut()
}

/// Mutable object at `key` only when it exists.
pub fn existing_obj<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    obj.get_mut(key)?.as_object_mut()
}

/// Mutable array elements at `key` that are objects.
pub fn each_obj_mut<'a>(
    obj: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    obj.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Go's `%q` quoting of a string (strconv.Quote), used in error messages.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
