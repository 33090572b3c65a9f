//! Strict field validation: which fields of an object the Kubernetes type does not have.
//!
//! The object is decoded into its typed model and encoded again; a field present in the input
//! but missing from the round trip is unknown. Null/empty values are ignored because the
//! typed model may legitimately drop them.

use crate::json::is_empty;
use crate::podpreset::PodPreset;
use k8s_openapi::api::{apps, batch, coordination, core, events};
use peapod_apimachinery::gvk::kinds;
use peapod_apimachinery::Gvk;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Paths such as `spec.containers[0].imagee`, in document order. Empty when the kind has no
/// typed model here or the object does not decode (type errors are reported elsewhere).
pub fn unknown_fields(gvk: Gvk, obj: &Value) -> Vec<String> {
    let Some(round_trip) = round_trip_for(gvk, obj) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    compare(obj, &round_trip, "", &mut out);
    out
}

fn round_trip<T: DeserializeOwned + Serialize>(obj: &Value) -> Option<Value> {
    // apiVersion/kind are checked by the server; drop them so typed decoders accept the input.
    let mut input = obj.clone();
    let map = input.as_object_mut()?;
    map.remove("apiVersion");
    map.remove("kind");
    let typed: T = serde_json::from_value(input).ok()?;
    let mut out = serde_json::to_value(&typed).ok()?;
    if let Some(m) = out.as_object_mut() {
        for k in ["apiVersion", "kind"] {
            if let Some(v) = obj.get(k) {
                m.insert(k.to_string(), v.clone());
            }
        }
    }
    Some(out)
}

fn round_trip_for(gvk: Gvk, obj: &Value) -> Option<Value> {
    match gvk {
        g if g == kinds::POD => round_trip::<core::v1::Pod>(obj),
        g if g == kinds::NODE => round_trip::<core::v1::Node>(obj),
        g if g == kinds::NAMESPACE => round_trip::<core::v1::Namespace>(obj),
        g if g == kinds::CONFIG_MAP => round_trip::<core::v1::ConfigMap>(obj),
        g if g == kinds::SECRET => round_trip::<core::v1::Secret>(obj),
        g if g == kinds::SERVICE_ACCOUNT => round_trip::<core::v1::ServiceAccount>(obj),
        g if g == kinds::EVENT => round_trip::<core::v1::Event>(obj),
        g if g == kinds::SERVICE => round_trip::<core::v1::Service>(obj),
        g if g == kinds::ENDPOINTS => round_trip::<core::v1::Endpoints>(obj),
        g if g == kinds::REPLICATION_CONTROLLER => {
            round_trip::<core::v1::ReplicationController>(obj)
        }
        g if g == kinds::EVENTS_V1_EVENT => round_trip::<events::v1::Event>(obj),
        g if g == kinds::LEASE => round_trip::<coordination::v1::Lease>(obj),
        g if g == kinds::DEPLOYMENT => round_trip::<apps::v1::Deployment>(obj),
        g if g == kinds::REPLICA_SET => round_trip::<apps::v1::ReplicaSet>(obj),
        g if g == kinds::DAEMON_SET => round_trip::<apps::v1::DaemonSet>(obj),
        g if g == kinds::STATEFUL_SET => round_trip::<apps::v1::StatefulSet>(obj),
        g if g == kinds::CONTROLLER_REVISION => round_trip::<apps::v1::ControllerRevision>(obj),
        g if g == kinds::JOB => round_trip::<batch::v1::Job>(obj),
        g if g == kinds::CRON_JOB => round_trip::<batch::v1::CronJob>(obj),
        g if g == kinds::POD_PRESET => round_trip::<PodPreset>(obj),
        _ => None,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn compare(input: &Value, output: &Value, path: &str, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => {
            for (k, v) in i {
                match o.get(k) {
                    Some(ov) => compare(v, ov, &join(path, k), out),
                    None if !is_empty(v) => out.push(join(path, k)),
                    None => {}
                }
            }
        }
        (Value::Array(i), Value::Array(o)) => {
            for (idx, (iv, ov)) in i.iter().zip(o).enumerate() {
                compare(iv, ov, &format!("{path}[{idx}]"), out);
            }
        }
        _ => {}
    }
}
