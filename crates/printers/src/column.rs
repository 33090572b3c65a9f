//! Table column definitions (`metav1.TableColumnDefinition`).

use serde_json::{json, Value};

/// One column of a `meta.k8s.io/v1` Table. kubectl shows columns with
/// `priority > 0` only under `-o wide`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// OpenAPI type: "string", "integer", "boolean", "date", ...
    pub type_: &'static str,
    /// "name" for the column holding the object's name, else "".
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i32,
}

impl Column {
    /// The column's JSON form inside a Table's `columnDefinitions`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// A normal (priority 0) column.
pub(crate) const fn col(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A column shown only with `-o wide`.
pub(crate) const fn wide(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

pub(crate) const NAME: Column = Column {
    name: "Name",
    type_: "string",
    format: "name",
    description: "Name of the object, unique within its namespace.",
    priority: 0,
};

pub(crate) const AGE: Column = col(
    "Age",
    "string",
    "Time since the object was created (metadata.creationTimestamp).",
);

pub(crate) const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of the containers in the pod template.",
);
pub(crate) const IMAGES: Column = wide(
    "Images",
    "string",
    "Images used by the containers in the pod template.",
);
pub(crate) const SELECTOR: Column = wide(
    "Selector",
    "string",
    "Label query over the pods this object manages.",
);
