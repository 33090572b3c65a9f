//! apps/v1 rows: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision; and
//! core/v1 ReplicationController, which prints like a ReplicaSet.

use crate::access::{at, int_at, list_at, name, str_at, time_at};
use crate::column::{col, Column, AGE, CONTAINERS, IMAGES, NAME, SELECTOR};
use crate::containers::names_and_images;
use crate::duration::since;
use crate::selectors::{format_label_selector, format_labels, selector_string};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn age(obj: &Value, now: DateTime<Utc>) -> Value {
    json!(since(time_at(obj, &["metadata", "creationTimestamp"]), now))
}

/// `spec.replicas`, which the API server defaults to 1 when unset.
fn desired_replicas(obj: &Value) -> i64 {
    at(obj, &["spec", "replicas"])
        .map(crate::access::as_int)
        .unwrap_or(1)
}

fn template_spec(obj: &Value) -> Option<&Value> {
    at(obj, &["spec", "template", "spec"])
}

pub(crate) fn deployment_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Ready",
            "string",
            "Number of ready pods out of the desired number.",
        ),
        col(
            "Up-to-date",
            "string",
            "Number of pods running the latest pod template.",
        ),
        col(
            "Available",
            "string",
            "Number of pods available for at least minReadySeconds.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ]
}

pub(crate) fn deployment_cells(d: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = names_and_images(template_spec(d));
    let selector =
        selector_string(at(d, &["spec", "selector"])).unwrap_or_else(|()| "<error>".to_string());
    vec![
        json!(name(d)),
        json!(format!(
            "{}/{}",
            int_at(d, &["status", "readyReplicas"]),
            desired_replicas(d)
        )),
        json!(int_at(d, &["status", "updatedReplicas"])),
        json!(int_at(d, &["status", "availableReplicas"])),
        age(d, now),
        json!(names),
        json!(images),
        json!(selector),
    ]
}

pub(crate) fn replica_set_columns() -> Vec<Column> {
    vec![
        NAME,
        col("Desired", "integer", "Number of desired pods."),
        col("Current", "integer", "Number of pods that currently exist."),
        col("Ready", "integer", "Number of ready pods."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ]
}

pub(crate) fn replica_set_cells(rs: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let selector = format_label_selector(at(rs, &["spec", "selector"]));
    replica_cells(rs, now, selector)
}

/// A ReplicationController's selector is a plain label map.
pub(crate) fn replication_controller_cells(rc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let selector = format_labels(at(rc, &["spec", "selector"]));
    replica_cells(rc, now, selector)
}

/// The cells of [`replica_set_columns`], given the selector as printed.
fn replica_cells(obj: &Value, now: DateTime<Utc>, selector: String) -> Vec<Value> {
    let (names, images) = names_and_images(template_spec(obj));
    vec![
        json!(name(obj)),
        json!(desired_replicas(obj)),
        json!(int_at(obj, &["status", "replicas"])),
        json!(int_at(obj, &["status", "readyReplicas"])),
        age(obj, now),
        json!(names),
        json!(images),
        json!(selector),
    ]
}

pub(crate) fn daemon_set_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Desired",
            "integer",
            "Number of nodes that should run the daemon pod.",
        ),
        col(
            "Current",
            "integer",
            "Number of nodes running at least one daemon pod that should.",
        ),
        col(
            "Ready",
            "integer",
            "Number of nodes whose daemon pod is ready.",
        ),
        col(
            "Up-to-date",
            "integer",
            "Number of nodes running the updated daemon pod.",
        ),
        col(
            "Available",
            "integer",
            "Number of nodes whose daemon pod is available.",
        ),
        col(
            "Node Selector",
            "string",
            "Node labels the daemon pods are restricted to.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ]
}

pub(crate) fn daemon_set_cells(ds: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = names_and_images(template_spec(ds));
    vec![
        json!(name(ds)),
        json!(int_at(ds, &["status", "desiredNumberScheduled"])),
        json!(int_at(ds, &["status", "currentNumberScheduled"])),
        json!(int_at(ds, &["status", "numberReady"])),
        json!(int_at(ds, &["status", "updatedNumberScheduled"])),
        json!(int_at(ds, &["status", "numberAvailable"])),
        json!(format_labels(at(
            ds,
            &["spec", "template", "spec", "nodeSelector"]
        ))),
        age(ds, now),
        json!(names),
        json!(images),
        json!(format_label_selector(at(ds, &["spec", "selector"]))),
    ]
}

pub(crate) fn stateful_set_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Ready",
            "string",
            "Number of ready pods out of the desired number.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
    ]
}

pub(crate) fn stateful_set_cells(ss: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = names_and_images(template_spec(ss));
    vec![
        json!(name(ss)),
        json!(format!(
            "{}/{}",
            int_at(ss, &["status", "readyReplicas"]),
            desired_replicas(ss)
        )),
        age(ss, now),
        json!(names),
        json!(images),
    ]
}

pub(crate) fn controller_revision_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Controller",
            "string",
            "The controller that owns this revision.",
        ),
        col(
            "Revision",
            "integer",
            "The revision number of the state this object holds.",
        ),
        AGE,
    ]
}

pub(crate) fn controller_revision_cells(cr: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(cr)),
        json!(controller_name(cr)),
        json!(int_at(cr, &["revision"])),
        age(cr, now),
    ]
}

/// The owner reference marked `controller: true` as "kind.group/name" in lower case
/// ("daemonset.apps/fluentd"), "<none>" without one.
fn controller_name(obj: &Value) -> String {
    let owner = list_at(obj, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true));
    let Some(owner) = owner else {
        return "<none>".to_string();
    };
    let owner_name = str_at(owner, &["name"]);
    let kind = str_at(owner, &["kind"]);
    // The group is what precedes the last "/" of apiVersion; core ("v1") has none.
    let group = str_at(owner, &["apiVersion"])
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("");
    if kind.is_empty() && group.is_empty() {
        return owner_name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{owner_name}", group_kind.to_lowercase())
}
