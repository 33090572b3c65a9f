//! Small helpers over JSON values shared by the strategic merge code.

use serde_json::Value;

/// The directive keys of strategic merge patch.
pub(crate) const PATCH: &str = "$patch";
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
pub(crate) const SET_ELEMENT_ORDER: &str = "$setElementOrder";
pub(crate) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Equality for merge keys and set elements: numbers compare by value (`80` equals `80.0`).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The JSON type name of a value, for messages and for checking that list elements agree.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Shortened JSON text of a value for error messages, so a huge patch does not make a huge
/// Status.
pub(crate) fn excerpt(value: &Value) -> String {
    const LIMIT: usize = 200;
    let text = value.to_string();
    if text.len() <= LIMIT {
        return text;
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A hashable identity agreeing with [`same`] for scalars (numbers by value), so lists can be
/// matched in linear time: a patch may carry very long lists.
pub(crate) fn identity_key(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) => format!("n:{f}"),
            None => format!("n:{n}"),
        },
        Value::String(s) => format!("s:{s}"),
        other => format!("j:{other}"),
    }
}
