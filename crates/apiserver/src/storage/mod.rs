//! The write pipeline: every write the server makes goes through here, whether it came over
//! HTTP (the handlers decode the request and encode what this returns), from the server itself
//! (events, bootstrap objects, namespace deletion) or from a subresource (scale, binding,
//! eviction). Each write runs admission (defaults, pod admission, create preparation), then
//! validation, then one compare-and-swap in the store on the revision the object was read at;
//! a write that loses that race is re-read and retried where the client did not pin a
//! resourceVersion. Inputs are typed requests; nothing here knows about HTTP.
//!
//! The store is reached only through `Objects` (the `peapod_store::Store` trait), so another
//! backend plugs in below this module without changing it.

mod binding;
mod create;
mod delete;
mod events;
mod patch;
mod scale;
mod update;

#[cfg(test)]
mod tests;

pub use binding::bind_pod;
pub use create::{create, CreateRequest};
pub use delete::{delete, delete_listed, remove_namespace, DeleteOptions, Deletion};
pub use events::record_event;
pub use patch::{patch, PatchKind, PatchRequest};
pub use scale::{requested_replicas, set_replicas};
pub use update::{
    overwrite, replace, update, Current, Part, ReplaceRequest, UpdateRequest, Written,
};

use crate::registry::ResourceInfo;

/// Attempts at a read-modify-write that keeps losing the compare-and-swap to other writers.
const RETRIES: usize = 5;

/// One object, by where it is stored.
#[derive(Clone, Copy, Debug)]
pub struct ObjectRef<'a> {
    pub res: &'static ResourceInfo,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}
