//! Small core/v1 and coordination rows: Namespace, ConfigMap, Secret,
//! ServiceAccount, Lease.

use crate::access::{len_at, name, str_at, time_at};
use crate::column::{col, Column, AGE, NAME};
use crate::duration::since;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn age(obj: &Value, now: DateTime<Utc>) -> Value {
    json!(since(time_at(obj, &["metadata", "creationTimestamp"]), now))
}

pub(crate) fn namespace_columns() -> Vec<Column> {
    vec![
        NAME,
        col("Status", "string", "The status of the namespace"),
        AGE,
    ]
}

pub(crate) fn namespace_cells(ns: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(ns)),
        json!(str_at(ns, &["status", "phase"])),
        age(ns, now),
    ]
}

pub(crate) fn config_map_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Data",
            "string",
            "Number of entries in data and binaryData.",
        ),
        AGE,
    ]
}

pub(crate) fn config_map_cells(cm: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let entries = len_at(cm, &["data"]) + len_at(cm, &["binaryData"]);
    vec![json!(name(cm)), json!(entries), age(cm, now)]
}

pub(crate) fn secret_columns() -> Vec<Column> {
    vec![
        NAME,
        col("Type", "string", "The type of the secret."),
        col("Data", "string", "Number of entries in data."),
        AGE,
    ]
}

pub(crate) fn secret_cells(secret: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(secret)),
        json!(str_at(secret, &["type"])),
        json!(len_at(secret, &["data"])),
        age(secret, now),
    ]
}

pub(crate) fn service_account_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Secrets",
            "string",
            "Number of secrets listed for this service account.",
        ),
        AGE,
    ]
}

pub(crate) fn service_account_cells(sa: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(sa)),
        json!(len_at(sa, &["secrets"])),
        age(sa, now),
    ]
}

pub(crate) fn lease_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Holder",
            "string",
            "Identity of the current holder of the lease.",
        ),
        AGE,
    ]
}

pub(crate) fn lease_cells(lease: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(lease)),
        json!(str_at(lease, &["spec", "holderIdentity"])),
        age(lease, now),
    ]
}
