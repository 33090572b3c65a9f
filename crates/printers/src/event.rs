//! Event rows for core/v1 and events.k8s.io/v1 Events.
//!
//! Both versions are printed from the same fields; events.k8s.io/v1 names them
//! differently (`regarding`, `note`, `deprecated*`), so the field names are
//! chosen per version and the rendering is shared.

use crate::access::{as_int, at, name, str_at, time_at};
use crate::column::{col, wide, Column};
use crate::duration::since;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub(crate) fn columns() -> Vec<Column> {
    vec![
        col(
            "Last Seen",
            "string",
            "Time since the event was last observed.",
        ),
        col("Type", "string", "Type of the event (Normal, Warning)."),
        col(
            "Reason",
            "string",
            "Short, machine-readable reason for the event.",
        ),
        col("Object", "string", "The object this event is about."),
        wide(
            "Subobject",
            "string",
            "The part of the object this event is about (fieldPath).",
        ),
        wide(
            "Source",
            "string",
            "The component (and host) that reported the event.",
        ),
        col(
            "Message",
            "string",
            "Human-readable description of the event.",
        ),
        wide(
            "First Seen",
            "string",
            "Time since the event was first observed.",
        ),
        wide("Count", "string", "Number of times the event occurred."),
        Column {
            priority: 1,
            ..crate::column::NAME
        },
    ]
}

/// Where each printed field lives in one Event API version.
struct Fields {
    involved: &'static str,
    message: &'static str,
    source: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

const CORE_V1: Fields = Fields {
    involved: "involvedObject",
    message: "message",
    source: "source",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    reporting_controller: "reportingComponent",
};

const EVENTS_V1: Fields = Fields {
    involved: "regarding",
    message: "note",
    source: "deprecatedSource",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reporting_controller: "reportingController",
};

pub(crate) fn core_cells(event: &Value, now: DateTime<Utc>) -> Vec<Value> {
    render(event, &CORE_V1, now)
}

pub(crate) fn events_v1_cells(event: &Value, now: DateTime<Utc>) -> Vec<Value> {
    render(event, &EVENTS_V1, now)
}

fn render(event: &Value, f: &Fields, now: DateTime<Utc>) -> Vec<Value> {
    let first_seen = match time_at(event, &[f.first]) {
        Some(t) => since(Some(t), now),
        None => since(time_at(event, &["eventTime"]), now),
    };
    let mut last_seen = match time_at(event, &[f.last]) {
        Some(t) => since(Some(t), now),
        None => first_seen.clone(),
    };
    let mut count = at(event, &[f.count]).map(as_int).unwrap_or(0);
    if let Some(series) = at(event, &["series"]) {
        last_seen = since(time_at(series, &["lastObservedTime"]), now);
        count = at(series, &["count"]).map(as_int).unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the newer API carry no count.
        count = 1;
    }

    let kind = str_at(event, &[f.involved, "kind"]).to_lowercase();
    let object_name = str_at(event, &[f.involved, "name"]);
    let target = if object_name.is_empty() {
        kind
    } else {
        format!("{kind}/{object_name}")
    };

    let component = first_non_empty(
        str_at(event, &[f.source, "component"]),
        str_at(event, &[f.reporting_controller]),
    );
    let instance = first_non_empty(
        str_at(event, &[f.source, "host"]),
        str_at(event, &["reportingInstance"]),
    );
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };

    vec![
        json!(last_seen),
        json!(str_at(event, &["type"])),
        json!(str_at(event, &["reason"])),
        json!(target),
        json!(str_at(event, &[f.involved, "fieldPath"])),
        json!(source),
        json!(str_at(event, &[f.message]).trim()),
        json!(first_seen),
        json!(count),
        json!(name(event)),
    ]
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}
