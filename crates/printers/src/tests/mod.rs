//! Unit tests: one file per family of printers, sharing the helpers below.

mod batch;
mod core;
mod duration;
mod event;
mod node;
mod pod;
mod service;
mod table;
mod workloads;

use crate::{cells, columns};
use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use peapod_apimachinery::Gvk;
use serde_json::Value;

/// The fixed "now" every test renders against.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// An RFC 3339 timestamp `secs` seconds before [`now`].
pub(crate) fn ago(secs: i64) -> String {
    (now() - Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The cell under the column named `column` (normal or wide).
pub(crate) fn cell(gvk: Gvk, obj: &Value, column: &str) -> Value {
    let cols = columns(gvk);
    let row = cells(gvk, obj, now());
    assert_eq!(cols.len(), row.len(), "{gvk}: one cell per column");
    let index = cols
        .iter()
        .position(|c| c.name == column)
        .unwrap_or_else(|| panic!("{gvk} has no column {column}"));
    row[index].clone()
}

/// The cell as a string (panics with a clear message if it is not one).
pub(crate) fn text(gvk: Gvk, obj: &Value, column: &str) -> String {
    match cell(gvk, obj, column) {
        Value::String(s) => s,
        other => panic!("{gvk} column {column}: expected a string cell, got {other}"),
    }
}
