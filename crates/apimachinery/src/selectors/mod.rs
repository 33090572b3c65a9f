//! Label and field selectors: the `?labelSelector=` / `?fieldSelector=` query languages and the
//! `metav1.LabelSelector` object, with the same syntax, validation and matching rules as Kubernetes.

mod error;
mod field;
mod label;
mod label_parser;
mod label_syntax;

pub use error::SelectorError;
pub use field::{FieldOperator, FieldRequirement, FieldSelector};
pub use label::{LabelOperator, LabelRequirement, LabelSelector};
pub use label_syntax::{validate_label_key, validate_label_value};

#[cfg(test)]
mod tests_field;
#[cfg(test)]
mod tests_label;
