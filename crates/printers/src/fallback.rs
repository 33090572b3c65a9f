//! Rows for types without a dedicated printer.

use crate::access::{name, time_at};
use crate::column::{col, Column, AGE, NAME};
use crate::duration::since;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// Name and Age, for types we print like most built-ins (PodPreset).
pub(crate) fn name_age_columns() -> Vec<Column> {
    vec![NAME, AGE]
}

pub(crate) fn name_age_cells(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(since(time_at(obj, &["metadata", "creationTimestamp"]), now)),
    ]
}

/// The API server's generic conversion: Name and the creation time as an
/// RFC 3339 date (kubectl shows it as "CREATED AT").
pub(crate) fn default_columns() -> Vec<Column> {
    vec![
        NAME,
        col(
            "Created At",
            "date",
            "When the object was created (metadata.creationTimestamp).",
        ),
    ]
}

pub(crate) fn default_cells(obj: &Value) -> Vec<Value> {
    // A missing timestamp prints as Go's zero time, as the generic converter does.
    let created = time_at(obj, &["metadata", "creationTimestamp"])
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
    vec![json!(name(obj)), json!(created)]
}
