//! What an API object should be: server-side defaulting and validation, per type.
pub mod defaults;
pub mod validation;
