//! Patches as the API server applies them to stored objects: JSON patch (RFC 6902), JSON merge
//! patch (RFC 7386) and Kubernetes' strategic merge patch, which needs per-type knowledge of how
//! lists merge ([`schema`]).

mod error;
mod list_order;
mod rfc;
pub mod schema;
mod schema_kinds;
mod strategic;
mod values;

pub use error::PatchError;
pub use rfc::{json_patch, merge_patch};
pub use schema::{FieldSchema, PatchStrategy, TypeSchema};
pub use schema_kinds::{schema_for, supports_strategic_merge, METADATA_ONLY};
pub use strategic::{strategic_merge_patch, strategic_merge_patch_with_schema};

#[cfg(test)]
mod tests_rfc;
#[cfg(test)]
mod tests_schema;
#[cfg(test)]
mod tests_strategic;
