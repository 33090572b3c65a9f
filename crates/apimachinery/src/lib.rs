//! API machinery: identity of API types, label/field selectors, patches, resource quantities
//! node placement rules (node selectors, taints and tolerations), query strings, API times as
//! chrono values and the well-known names several crates share.
//! Pure functions over API objects; no I/O lives here.

pub mod gvk;
pub mod patch;
pub mod placement;
pub mod quantity;
pub mod query;
pub mod selectors;
pub mod timeconv;
pub mod well_known;

pub use gvk::Gvk;
