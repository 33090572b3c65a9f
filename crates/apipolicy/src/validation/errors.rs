//! Field errors in Kubernetes' shape: a CauseType reason, a field path and the message that
//! Kubernetes prints after `<field>: `.

use crate::json::go_quote;
use serde_json::Value;

/// One validation failure, mapped by the server onto a `StatusCause`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldCause {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// How a bad value is shown after `Invalid value: `, following Go's formatting of the value.
pub enum Shown {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Already formatted (for Go struct or map renderings).
    Raw(String),
}

impl Shown {
    fn render(&self) -> String {
        match self {
            Shown::Str(s) => go_quote(s),
            Shown::Int(i) => i.to_string(),
            Shown::Bool(b) => b.to_string(),
            Shown::Raw(s) => s.clone(),
        }
    }

    /// Shows a JSON value the way the Go field would be printed.
    pub fn json(v: &Value) -> Shown {
        match v {
            Value::String(s) => Shown::Str(s.clone()),
            Value::Bool(b) => Shown::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Shown::Int(i),
                None => Shown::Raw(n.to_string()),
            },
            Value::Null => Shown::Str("null".to_string()),
            other => Shown::Raw(other.to_string()),
        }
    }
}

impl From<&str> for Shown {
    fn from(s: &str) -> Self {
        Shown::Str(s.to_string())
    }
}
impl From<String> for Shown {
    fn from(s: String) -> Self {
        Shown::Str(s)
    }
}
impl From<&String> for Shown {
    fn from(s: &String) -> Self {
        Shown::Str(s.clone())
    }
}
impl From<i64> for Shown {
    fn from(i: i64) -> Self {
        Shown::Int(i)
    }
}

/// Collects causes; each method mirrors one of Kubernetes' field error constructors.
#[derive(Default, Debug)]
pub struct Errs(pub Vec<FieldCause>);

fn with_detail(head: &str, detail: &str) -> String {
    if detail.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {detail}")
    }
}

impl Errs {
    fn push(&mut self, reason: &'static str, field: &str, message: String) {
        self.0.push(FieldCause {
            reason,
            field: field.to_string(),
            message,
        });
    }

    pub fn required(&mut self, field: &str, detail: &str) {
        self.push(
            "FieldValueRequired",
            field,
            with_detail("Required value", detail),
        );
    }

    pub fn invalid(&mut self, field: &str, value: impl Into<Shown>, detail: &str) {
        let head = format!("Invalid value: {}", value.into().render());
        self.push("FieldValueInvalid", field, with_detail(&head, detail));
    }

    pub fn type_invalid(&mut self, field: &str, value: impl Into<Shown>, detail: &str) {
        let head = format!("Invalid value: {}", value.into().render());
        self.push("FieldValueTypeInvalid", field, with_detail(&head, detail));
    }

    pub fn not_supported(&mut self, field: &str, value: impl Into<Shown>, valid: &[&str]) {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
        let head = format!("Unsupported value: {}", value.into().render());
        let detail = if valid.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        self.push("FieldValueNotSupported", field, with_detail(&head, &detail));
    }

    pub fn duplicate(&mut self, field: &str, value: impl Into<Shown>) {
        let msg = format!("Duplicate value: {}", value.into().render());
        self.push("FieldValueDuplicate", field, msg);
    }

    pub fn not_found(&mut self, field: &str, value: impl Into<Shown>) {
        let msg = format!("Not found: {}", value.into().render());
        self.push("FieldValueNotFound", field, msg);
    }

    pub fn forbidden(&mut self, field: &str, detail: &str) {
        self.push(
            "FieldValueForbidden",
            field,
            with_detail("Forbidden", detail),
        );
    }

    pub fn too_long(&mut self, field: &str, max_bytes: usize) {
        let unit = if max_bytes == 1 { "byte" } else { "bytes" };
        let msg = format!("Too long: may not be more than {max_bytes} {unit}");
        self.push("FieldValueTooLong", field, msg);
    }

    pub fn too_many(&mut self, field: &str, actual: usize, max: usize) {
        let msg = format!("Too many: {actual}: must have at most {max} items");
        self.push("FieldValueTooMany", field, msg);
    }

    /// One Invalid cause per message, as Kubernetes reports the output of its name checkers.
    pub fn invalid_each(&mut self, field: &str, value: &str, msgs: Vec<String>) {
        for m in msgs {
            self.invalid(field, value, &m);
        }
    }

    /// Requires an optional JSON value to be a string; reports a type error otherwise.
    pub fn string_or_report<'a>(&mut self, field: &str, v: Option<&'a Value>) -> Option<&'a str> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.type_invalid(field, Shown::json(other), "must be a string");
                None
            }
        }
    }

    /// Requires an optional JSON value to be an integer; reports a type error otherwise.
    pub fn int_or_report(&mut self, field: &str, v: Option<&Value>) -> Option<i64> {
        match v {
            None | Some(Value::Null) => None,
            Some(n) if n.as_i64().is_some() => n.as_i64(),
            Some(other) => {
                self.type_invalid(field, Shown::json(other), "must be an integer");
                None
            }
        }
    }

    pub fn nonnegative(&mut self, field: &str, v: Option<&Value>) {
        if let Some(n) = self.int_or_report(field, v) {
            if n < 0 {
                self.invalid(field, n, "must be greater than or equal to 0");
            }
        }
    }

    pub fn positive(&mut self, field: &str, v: Option<&Value>) {
        if let Some(n) = self.int_or_report(field, v) {
            if n <= 0 {
                self.invalid(field, n, "must be greater than 0");
            }
        }
    }

    /// Validates an optional string enum; empty strings count as unset unless `required`.
    pub fn enum_value(&mut self, field: &str, v: Option<&Value>, valid: &[&str], required: bool) {
        match self.string_or_report(field, v) {
            None | Some("") => {
                if required {
                    self.required(field, "");
                }
            }
            Some(s) if !valid.contains(&s) => self.not_supported(field, s, valid),
            Some(_) => {}
        }
    }
}

/// Builds child paths the way Kubernetes prints them.
pub fn child(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

pub fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

pub fn key(base: &str, k: &str) -> String {
    format!("{base}[{k}]")
}
