//! Helpers the generated `ToJson` impls call to put one field into a JSON object.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Number, Value};

use crate::error::DecodeError;
use crate::to_json::ToJson;

/// How an absent or zero scalar maps to JSON, following the Go struct field it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Go pointer field: emitted exactly when set, so an explicit `false`/`0` stays.
    IfSet,
    /// Go value field with `omitempty`: Go's protobuf encoder always writes it, Go's JSON
    /// encoder drops its zero value, so zero means "unset".
    OmitZero,
    /// Go value field without `omitempty`: JSON always has it, zero when absent.
    AlwaysEmit,
}

/// A protobuf scalar with a JSON form and a Go zero value.
pub(crate) trait Scalar {
    fn to_value(&self, field: &str) -> Result<Value, DecodeError>;
    fn is_zero(&self) -> bool;
    fn zero_value() -> Value;
}

impl Scalar for String {
    fn to_value(&self, _field: &str) -> Result<Value, DecodeError> {
        Ok(Value::String(self.clone()))
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
    fn zero_value() -> Value {
        Value::String(String::new())
    }
}

impl Scalar for bool {
    fn to_value(&self, _field: &str) -> Result<Value, DecodeError> {
        Ok(Value::Bool(*self))
    }
    fn is_zero(&self) -> bool {
        !*self
    }
    fn zero_value() -> Value {
        Value::Bool(false)
    }
}

impl Scalar for i32 {
    fn to_value(&self, _field: &str) -> Result<Value, DecodeError> {
        Ok(Value::from(*self))
    }
    fn is_zero(&self) -> bool {
        *self == 0
    }
    fn zero_value() -> Value {
        Value::from(0)
    }
}

impl Scalar for i64 {
    fn to_value(&self, _field: &str) -> Result<Value, DecodeError> {
        Ok(Value::from(*self))
    }
    fn is_zero(&self) -> bool {
        *self == 0
    }
    fn zero_value() -> Value {
        Value::from(0)
    }
}

impl Scalar for f64 {
    fn to_value(&self, field: &str) -> Result<Value, DecodeError> {
        // Go's JSON encoder refuses NaN and infinities too.
        Number::from_f64(*self)
            .map(Value::Number)
            .ok_or_else(|| DecodeError::invalid(field, format!("{self} has no JSON form")))
    }
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
    fn zero_value() -> Value {
        Value::from(0)
    }
}

pub(crate) fn put_scalar<T: Scalar>(
    out: &mut Map<String, Value>,
    name: &str,
    value: Option<&T>,
    presence: Presence,
) -> Result<(), DecodeError> {
    match (value, presence) {
        (Some(v), Presence::OmitZero) if v.is_zero() => {}
        (Some(v), _) => {
            out.insert(name.to_string(), v.to_value(name)?);
        }
        (None, Presence::AlwaysEmit) => {
            out.insert(name.to_string(), T::zero_value());
        }
        (None, _) => {}
    }
    Ok(())
}

pub(crate) fn base64_value(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Bytes are `[]byte` in Go: nil encodes as JSON null, so only set values are emitted.
pub(crate) fn put_bytes(
    out: &mut Map<String, Value>,
    name: &str,
    value: Option<&[u8]>,
    presence: Presence,
) {
    match value {
        Some(v) if presence == Presence::OmitZero && v.is_empty() => {}
        Some(v) => {
            out.insert(name.to_string(), base64_value(v));
        }
        None => {}
    }
}

pub(crate) fn put_message<T: ToJson + ?Sized>(
    out: &mut Map<String, Value>,
    name: &str,
    value: Option<&T>,
) -> Result<(), DecodeError> {
    if let Some(v) = value {
        let json = v.to_json()?;
        if !json.is_null() {
            out.insert(name.to_string(), json);
        }
    }
    Ok(())
}

/// Go `json:",inline"` embeds: the child's fields go straight into the parent object.
pub(crate) fn put_inline<T: ToJson + ?Sized>(
    out: &mut Map<String, Value>,
    value: Option<&T>,
) -> Result<(), DecodeError> {
    if let Some(v) = value {
        if let Value::Object(fields) = v.to_json()? {
            out.extend(fields);
        }
    }
    Ok(())
}

// Empty lists and maps are omitted: protobuf cannot tell nil from empty, and Go's JSON
// encoder drops both for `omitempty` fields.

pub(crate) fn put_repeated_scalar<T: Scalar>(
    out: &mut Map<String, Value>,
    name: &str,
    values: &[T],
) -> Result<(), DecodeError> {
    if !values.is_empty() {
        let items = values
            .iter()
            .map(|v| v.to_value(name))
            .collect::<Result<_, _>>()?;
        out.insert(name.to_string(), Value::Array(items));
    }
    Ok(())
}

pub(crate) fn put_repeated_message<T: ToJson>(
    out: &mut Map<String, Value>,
    name: &str,
    values: &[T],
) -> Result<(), DecodeError> {
    if !values.is_empty() {
        let items = values
            .iter()
            .map(ToJson::to_json)
            .collect::<Result<_, _>>()?;
        out.insert(name.to_string(), Value::Array(items));
    }
    Ok(())
}

pub(crate) fn put_map_scalar<T: Scalar>(
    out: &mut Map<String, Value>,
    name: &str,
    values: &BTreeMap<String, T>,
) -> Result<(), DecodeError> {
    if !values.is_empty() {
        let mut object = Map::new();
        for (key, value) in values {
            object.insert(key.clone(), value.to_value(name)?);
        }
        out.insert(name.to_string(), Value::Object(object));
    }
    Ok(())
}

pub(crate) fn put_map_bytes(
    out: &mut Map<String, Value>,
    name: &str,
    values: &BTreeMap<String, Vec<u8>>,
) {
    if !values.is_empty() {
        let object = values
            .iter()
            .map(|(k, v)| (k.clone(), base64_value(v)))
            .collect();
        out.insert(name.to_string(), Value::Object(object));
    }
}

pub(crate) fn put_map_message<T: ToJson>(
    out: &mut Map<String, Value>,
    name: &str,
    values: &BTreeMap<String, T>,
) -> Result<(), DecodeError> {
    if !values.is_empty() {
        let mut object = Map::new();
        for (key, value) in values {
            object.insert(key.clone(), value.to_json()?);
        }
        out.insert(name.to_string(), Value::Object(object));
    }
    Ok(())
}

/// JSON for a Go named slice (`type ExtraValue []string`) wrapped as `{items}` in protobuf.
pub(crate) fn list_wrapper_json(items: &[String]) -> Result<Value, DecodeError> {
    Ok(Value::Array(
        items.iter().cloned().map(Value::String).collect(),
    ))
}
