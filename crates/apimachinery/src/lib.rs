//! API machinery: identity of API types, label/field selectors and patches.
//! Pure functions over API objects (`serde_json::Value`); no I/O lives here.

pub mod gvk;
pub mod patch;
pub mod selectors;

pub use gvk::Gvk;
