//! API machinery: identity of API types, label/field selectors, patches, resource quantities
//! and node placement rules (node selectors, taints and tolerations).
//! Pure functions over API objects; no I/O lives here.

pub mod gvk;
pub mod patch;
pub mod placement;
pub mod quantity;
pub mod selectors;

pub use gvk::Gvk;
