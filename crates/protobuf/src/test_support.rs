//! Test-only helpers: fully populated sample messages and root-kind round-trip cases.

use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{Duration, FieldsV1, MicroTime, Time};
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// A value with every field set (generated for all messages, hand-written for the special ones).
pub(crate) trait Sample {
    fn sample() -> Self;
}

impl Sample for Quantity {
    fn sample() -> Self {
        Quantity {
            string: Some("1500m".to_string()),
        }
    }
}

impl Sample for IntOrString {
    fn sample() -> Self {
        IntOrString {
            r#type: Some(1),
            int_val: Some(0),
            str_val: Some("25%".to_string()),
        }
    }
}

impl Sample for Time {
    fn sample() -> Self {
        Time {
            seconds: Some(1_700_000_000),
            nanos: Some(0),
        }
    }
}

impl Sample for MicroTime {
    fn sample() -> Self {
        MicroTime {
            seconds: Some(1_700_000_000),
            nanos: Some(123_456_000),
        }
    }
}

impl Sample for Duration {
    fn sample() -> Self {
        Duration {
            duration: Some(90_000_000_000),
        }
    }
}

impl Sample for RawExtension {
    fn sample() -> Self {
        RawExtension {
            raw: Some(br#"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"}}"#.to_vec()),
        }
    }
}

impl Sample for FieldsV1 {
    fn sample() -> Self {
        FieldsV1 {
            raw: Some(br#"{"f:metadata":{"f:labels":{}}}"#.to_vec()),
        }
    }
}

type ThroughOpenApi = fn(Value) -> Result<Value, String>;

/// A root kind: how to build its full sample and how to push JSON through its k8s-openapi type.
pub(crate) struct RootCase {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub encoded_sample: fn() -> Vec<u8>,
    /// JSON scalars the sample must produce (counted by the generator from the schema).
    pub expected_leaves: usize,
    pub through_openapi: ThroughOpenApi,
}

impl RootCase {
    pub(crate) fn new<P, O>(
        api_version: &'static str,
        kind: &'static str,
        expected_leaves: usize,
    ) -> Self
    where
        P: Sample + Message,
        O: Serialize + DeserializeOwned,
    {
        RootCase {
            api_version,
            kind,
            encoded_sample: || P::sample().encode_to_vec(),
            expected_leaves,
            through_openapi: |json| {
                let typed: O = serde_json::from_value(json).map_err(|e| e.to_string())?;
                serde_json::to_value(typed).map_err(|e| e.to_string())
            },
        }
    }
}

/// First path where two JSON values differ, for readable assertion messages.
///
/// k8s-openapi writes `apiVersion`/`kind` into every embedded resource (e.g. a
/// StatefulSet's volumeClaimTemplates), which Kubernetes' protobuf never carries for
/// nested objects; such keys are allowed to exist only on the right.
pub(crate) fn first_difference(left: &Value, right: &Value, path: &str) -> Option<String> {
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let sub = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => {
                        if let Some(d) = first_difference(value, other, &sub) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{sub}: only in left ({value})")),
                }
            }
            let nested = !path.is_empty();
            b.keys()
                .filter(|k| !(nested && (*k == "apiVersion" || *k == "kind")))
                .find(|k| !a.contains_key(*k))
                .map(|k| format!("{path}.{k}: only in right ({})", b[k]))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if left == right => None,
        _ => Some(format!("{path}: {left} != {right}")),
    }
}
