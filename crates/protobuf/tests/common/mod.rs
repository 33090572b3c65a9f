//! Shared helpers: build protobuf bodies the way a Go client does and decode them.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;

use k8s_pb::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use prost::Message;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub fn s(value: &str) -> Option<String> {
    Some(value.to_string())
}

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The envelope kubectl sends: `k8s\0` + runtime.Unknown around the encoded message.
pub fn body<M: Message>(api_version: &str, kind: &str, message: &M) -> Vec<u8> {
    peapod_protobuf::encode_envelope(api_version, kind, &message.encode_to_vec())
}

pub fn decode_message<M: Message>(api_version: &str, kind: &str, message: &M) -> Value {
    match peapod_protobuf::decode(&body(api_version, kind, message)) {
        Ok(json) => json,
        Err(err) => panic!("decoding {api_version} {kind} failed: {err}"),
    }
}

pub fn typed<T: DeserializeOwned>(json: &Value) -> T {
    match serde_json::from_value(json.clone()) {
        Ok(value) => value,
        Err(err) => panic!("JSON does not fit the k8s-openapi type: {err}\n{json:#}"),
    }
}

/// ObjectMeta as Go's protobuf encoder writes it for a fresh object: every non-pointer
/// field is present with its zero value, creationTimestamp is an empty Time.
pub fn go_meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(namespace),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(Time::default()),
        ..Default::default()
    }
}

/// Asserts exact JSON equality (key order ignored) with a readable message.
pub fn assert_json_eq(actual: &Value, expected: &Value) {
    assert_eq!(
        actual, expected,
        "\nactual:   {actual:#}\nexpected: {expected:#}"
    );
}
