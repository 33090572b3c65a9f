//! Label and field selectors: the `?labelSelector=` / `?fieldSelector=` query languages and the
//! `metav1.LabelSelector` object (parsed, or matched as stored in `spec.selector`: `object.rs`),
//! with the same syntax, validation and matching rules as Kubernetes.

mod error;
mod field;
mod label;
mod label_parser;
mod label_syntax;
mod object;

pub use error::SelectorError;
pub use field::{FieldOperator, FieldRequirement, FieldSelector};
pub use label::{LabelOperator, LabelRequirement, LabelSelector};
pub use label_syntax::{validate_label_key, validate_label_value};
pub use object::{
    equality_selector_selects, json_selector_matches, object_selector_matches, workload_selects,
};

#[cfg(test)]
mod tests_field;
#[cfg(test)]
mod tests_label;
#[cfg(test)]
mod tests_object;
