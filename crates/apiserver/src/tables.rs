//! Server-side `Table` responses (kubectl's `get` output), built with the printers crate.

use serde_json::{json, Value};

use crate::object_meta;
use crate::registry::ResourceInfo;

/// What each row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, PartialEq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn from_query(v: Option<&str>) -> Self {
        match v {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

pub fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

pub fn row(
    res: &ResourceInfo,
    obj: &Value,
    include: IncludeObject,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let cells = peapod_printers::cells(res.gvk, obj, now);
    let mut row = json!({"cells": cells});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object_meta::meta(obj).cloned().unwrap_or_default(),
            })
        }
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
}

pub fn table(
    res: &ResourceInfo,
    objs: &[Value],
    include: IncludeObject,
    list_meta: Value,
    with_columns: bool,
) -> Value {
    let now = chrono::Utc::now();
    let rows: Vec<Value> = objs.iter().map(|o| row(res, o, include, now)).collect();
    let columns = if with_columns {
        peapod_printers::column_definitions_json(res.gvk)
    } else {
        Value::Null
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}
