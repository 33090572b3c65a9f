//! Label selectors: requirements on an object's `metadata.labels`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::label_parser;
use super::label_syntax::{validate_label_key, validate_label_value};
use super::SelectorError;

/// How a requirement compares a label with its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LabelOperator {
    /// `key=value`
    Equals,
    /// `key==value` (same meaning as `=`, kept to print the selector back as written)
    DoubleEquals,
    /// `key!=value`; also true when the label is absent.
    NotEquals,
    /// `key in (a,b)`
    In,
    /// `key notin (a,b)`; also true when the label is absent.
    NotIn,
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key>5` (integer comparison; only in the string form)
    GreaterThan,
    /// `key<5` (integer comparison; only in the string form)
    LessThan,
}

/// One condition of a label selector. Values are kept sorted and without duplicates, as
/// Kubernetes keeps them, so equal requirements compare and print equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LabelRequirement {
    key: String,
    operator: LabelOperator,
    values: Vec<String>,
}

impl LabelRequirement {
    /// A validated requirement: the key and every value must be valid label syntax, and the number
    /// of values must suit the operator (one for `=`/`!=`/`>`/`<`, at least one for `in`/`notin`,
    /// none for exists/does-not-exist).
    pub fn new(
        key: &str,
        operator: LabelOperator,
        values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        use LabelOperator::*;
        validate_label_key(key)?;
        let mut values = values;
        values.sort();
        values.dedup();
        match operator {
            In | NotIn if values.is_empty() => {
                return Err(SelectorError::new(
                    "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
                ));
            }
            Equals | DoubleEquals | NotEquals if values.len() != 1 => {
                return Err(SelectorError::new(format!(
                    "values: Invalid value: {values:?}: exact-match compatibility requires one single value"
                )));
            }
            Exists | DoesNotExist if !values.is_empty() => {
                return Err(SelectorError::new(format!(
                    "values: Invalid value: {values:?}: values set must be empty for exists and does not exist"
                )));
            }
            GreaterThan | LessThan => {
                if values.len() != 1 {
                    return Err(SelectorError::new(format!(
                        "values: Invalid value: {values:?}: for 'Gt', 'Lt' operators, exactly one value is required"
                    )));
                }
                if values[0].parse::<i64>().is_err() {
                    return Err(SelectorError::new(format!(
                        "values[0]: Invalid value: {:?}: for 'Gt', 'Lt' operators, the value must be an integer",
                        values[0]
                    )));
                }
            }
            _ => {}
        }
        for value in &values {
            validate_label_value(value)?;
        }
        Ok(LabelRequirement {
            key: key.to_string(),
            operator,
            values,
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> LabelOperator {
        self.operator
    }

    /// The values, sorted.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a label with this requirement's key and value `value` (`None`: the label is absent)
    /// satisfies the requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        use LabelOperator::*;
        let has = |v: &str| self.values.iter().any(|x| x == v);
        match (self.operator, value) {
            (In | Equals | DoubleEquals, Some(v)) => has(v),
            (In | Equals | DoubleEquals, None) => false,
            (NotIn | NotEquals, Some(v)) => !has(v),
            (NotIn | NotEquals, None) => true,
            (Exists, v) => v.is_some(),
            (DoesNotExist, v) => v.is_none(),
            (GreaterThan | LessThan, None) => false,
            (GreaterThan | LessThan, Some(v)) => {
                let (Ok(label), Some(Ok(bound))) = (
                    v.parse::<i64>(),
                    self.values.first().map(|b| b.parse::<i64>()),
                ) else {
                    return false;
                };
                if self.operator == GreaterThan {
                    label > bound
                } else {
                    label < bound
                }
            }
        }
    }
}

impl fmt::Display for LabelRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LabelOperator::*;
        if self.operator == DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Exists | DoesNotExist => return Ok(()),
            Equals => "=",
            DoubleEquals => "==",
            NotEquals => "!=",
            GreaterThan => ">",
            LessThan => "<",
            In => " in ",
            NotIn => " notin ",
        };
        f.write_str(op)?;
        let values = self.values.join(",");
        if matches!(self.operator, In | NotIn) {
            write!(f, "({values})")
        } else {
            f.write_str(&values)
        }
    }
}

/// A conjunction of label requirements, kept sorted by key (stable) like Kubernetes keeps them.
///
/// An empty selector matches every object. Note that for selectors stored in API objects
/// (`spec.selector` of a ReplicaSet, Service, …) Kubernetes treats a *missing/null* selector as
/// matching nothing: that is the caller's decision, made before calling [`LabelSelector::from_api`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

impl LabelSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// Parses the string form used by `?labelSelector=`, e.g. `app=web,tier in (a,b),!canary`.
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let requirements = label_parser::parse(selector)?;
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// Builds a selector from a `metav1.LabelSelector` object (`matchLabels` and
    /// `matchExpressions`). `{}` gives the empty selector, which matches everything; anything that
    /// is not an object (including `null`) is an error, so a null selector is never mistaken for
    /// "everything".
    pub fn from_api(selector: &Value) -> Result<Self, SelectorError> {
        let Value::Object(object) = selector else {
            return Err(SelectorError::new(format!(
                "label selector must be an object, got {selector}"
            )));
        };
        let mut requirements = Vec::new();
        match object.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, value) in labels {
                    let Value::String(value) = value else {
                        return Err(SelectorError::new(format!(
                            "matchLabels[{key}]: value must be a string"
                        )));
                    };
                    let requirement =
                        LabelRequirement::new(key, LabelOperator::Equals, vec![value.clone()])
                            .map_err(|e| e.context("matchLabels"))?;
                    requirements.push(requirement);
                }
            }
            Some(_) => return Err(SelectorError::new("matchLabels must be an object")),
        }
        match object.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(expressions)) => {
                for (index, expression) in expressions.iter().enumerate() {
                    let requirement = expression_requirement(expression)
                        .map_err(|e| e.context(&format!("matchExpressions[{index}]")))?;
                    requirements.push(requirement);
                }
            }
            Some(_) => return Err(SelectorError::new("matchExpressions must be a list")),
        }
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// The selector requiring exactly these labels (`k=v` for each entry).
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Result<Self, SelectorError> {
        let requirements = labels
            .iter()
            .map(|(key, value)| {
                LabelRequirement::new(key, LabelOperator::Equals, vec![value.clone()])
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// A selector from requirements, sorted by key.
    pub fn from_requirements(mut requirements: Vec<LabelRequirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector { requirements }
    }

    /// Adds a requirement (keeping the order by key).
    pub fn add(&mut self, requirement: LabelRequirement) {
        let at = self
            .requirements
            .partition_point(|r| r.key <= requirement.key);
        self.requirements.insert(at, requirement);
    }

    pub fn requirements(&self) -> &[LabelRequirement] {
        &self.requirements
    }

    /// True when there are no requirements: the selector matches every object.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Matches labels as found at `metadata.labels` of an object (`None`: the object has no
    /// labels). A non-string label value counts as absent.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.matches_with(|key| labels.and_then(|l| l.get(key)).and_then(Value::as_str))
    }

    /// Matches a typed label map.
    pub fn matches_map(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|key| labels.get(key).map(String::as_str))
    }

    /// Matches labels looked up by `get` (key → value, `None` when absent).
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements
            .iter()
            .all(|r| r.matches_value(get(&r.key)))
    }

    /// If the selector only accepts one value for `key` (`key=v`, `key==v` or `key in (v)`),
    /// that value: lets a server narrow a list before matching.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let requirement = self.requirements.iter().find(|r| r.key == key)?;
        match requirement.operator {
            LabelOperator::Equals | LabelOperator::DoubleEquals | LabelOperator::In
                if requirement.values.len() == 1 =>
            {
                Some(&requirement.values[0])
            }
            _ => None,
        }
    }
}

fn expression_requirement(expression: &Value) -> Result<LabelRequirement, SelectorError> {
    let key = expression
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| SelectorError::new("key: Required value"))?;
    let operator = match expression.get("operator").and_then(Value::as_str) {
        Some("In") => LabelOperator::In,
        Some("NotIn") => LabelOperator::NotIn,
        Some("Exists") => LabelOperator::Exists,
        Some("DoesNotExist") => LabelOperator::DoesNotExist,
        Some(other) => {
            return Err(SelectorError::new(format!(
                "{other:?} is not a valid label selector operator"
            )));
        }
        None => return Err(SelectorError::new("operator: Required value")),
    };
    let values = match expression.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| SelectorError::new("values: must be a list of strings"))?,
        Some(_) => return Err(SelectorError::new("values: must be a list of strings")),
    };
    LabelRequirement::new(key, operator, values)
}

impl fmt::Display for LabelSelector {
    /// The canonical string form, e.g. `app=web,tier in (a,b)` (as in a Scale's `status.selector`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, requirement) in self.requirements.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

impl FromStr for LabelSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSelector::parse(s)
    }
}
