//! The Downward API: a pod's own fields and its containers' resources as strings, for env vars
//! and volume files.

mod field_ref;
mod goquote;
mod resource_ref;

pub use field_ref::resolve_field_ref;
pub use resource_ref::resolve_resource_field_ref;

#[cfg(test)]
mod tests;
