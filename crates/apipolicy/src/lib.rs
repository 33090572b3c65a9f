//! What an API object should be: server-side defaulting, strategy hooks, admission defaults and
//! validation, per type, following Kubernetes 1.33 semantics.
//!
//! Objects are handled as `serde_json::Value` (the wire JSON) so that badly typed input yields
//! field errors instead of panics, and so field paths can be reported exactly as Kubernetes does.

pub mod defaults;
mod json;
pub mod podpreset;
mod unknown_fields;
pub mod validation;

pub use defaults::{admit_pod, apply_defaults, prepare_for_create};
pub use unknown_fields::unknown_fields;
pub use validation::{validate_create, validate_update, FieldCause};
