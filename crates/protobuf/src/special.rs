//! Hand-written JSON forms of the apimachinery types that do not serialize as objects.

use chrono::{DateTime, Datelike, Utc};
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{Duration, FieldsV1, MicroTime, Time};
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::error::DecodeError;
use crate::go_duration::format_go_duration;
use crate::to_json::ToJson;

impl ToJson for Quantity {
    fn to_json(&self) -> Result<Value, DecodeError> {
        // Kept verbatim, like a JSON body's quantity; an empty one is Go's zero Quantity.
        match self.string.as_deref() {
            Some(s) if !s.is_empty() => Ok(Value::String(s.to_string())),
            _ => Ok(Value::String("0".to_string())),
        }
    }
}

/// `IntOrString.type`: 0 holds `intVal`, 1 holds `strVal`.
impl ToJson for IntOrString {
    fn to_json(&self) -> Result<Value, DecodeError> {
        match self.r#type.unwrap_or(0) {
            0 => Ok(Value::from(self.int_val.unwrap_or(0))),
            1 => Ok(Value::String(self.str_val.clone().unwrap_or_default())),
            other => Err(DecodeError::invalid(
                "IntOrString",
                format!("unknown type {other} (expected 0 for int or 1 for string)"),
            )),
        }
    }
}

fn timestamp(what: &str, seconds: i64, nanos: i32) -> Result<DateTime<Utc>, DecodeError> {
    let nanos = u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| DecodeError::invalid(what, format!("nanos {nanos} out of range")))?;
    let time = DateTime::from_timestamp(seconds, nanos)
        .ok_or_else(|| DecodeError::invalid(what, format!("seconds {seconds} out of range")))?;
    // RFC 3339 (and Go's encoder) only has four-digit years.
    if !(0..=9999).contains(&time.year()) {
        return Err(DecodeError::invalid(
            what,
            format!("year {} outside 0..9999", time.year()),
        ));
    }
    Ok(time)
}

/// Go's zero time travels as an empty message; its JSON is null.
fn is_zero_time(seconds: Option<i64>, nanos: Option<i32>) -> bool {
    seconds.unwrap_or(0) == 0 && nanos.unwrap_or(0) == 0
}

impl ToJson for Time {
    fn to_json(&self) -> Result<Value, DecodeError> {
        if is_zero_time(self.seconds, self.nanos) {
            return Ok(Value::Null);
        }
        // metav1.Time has second precision on the wire into Go (nanos are dropped).
        let time = timestamp("Time", self.seconds.unwrap_or(0), 0)?;
        Ok(Value::String(time.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
    }
}

impl ToJson for MicroTime {
    fn to_json(&self) -> Result<Value, DecodeError> {
        if is_zero_time(self.seconds, self.nanos) {
            return Ok(Value::Null);
        }
        let time = timestamp(
            "MicroTime",
            self.seconds.unwrap_or(0),
            self.nanos.unwrap_or(0),
        )?;
        Ok(Value::String(
            time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        ))
    }
}

impl ToJson for Duration {
    fn to_json(&self) -> Result<Value, DecodeError> {
        Ok(Value::String(format_go_duration(
            self.duration.unwrap_or(0),
        )))
    }
}

/// Embedded JSON documents (`RawExtension`, `FieldsV1`): the bytes must be JSON.
fn embedded_json(what: &str, raw: Option<&[u8]>) -> Result<Value, DecodeError> {
    match raw {
        None | Some([]) => Ok(Value::Null),
        Some(bytes) => serde_json::from_slice(bytes).map_err(|err| {
            DecodeError::invalid(what, format!("embedded object is not JSON: {err}"))
        }),
    }
}

impl ToJson for RawExtension {
    fn to_json(&self) -> Result<Value, DecodeError> {
        embedded_json("RawExtension", self.raw.as_deref())
    }
}

impl ToJson for FieldsV1 {
    fn to_json(&self) -> Result<Value, DecodeError> {
        embedded_json("FieldsV1", self.raw.as_deref())
    }
}
