//! Storage for API objects: a key/value interface shaped like etcd v3 (one global revision,
//! compare-and-swap on the modification revision, prefix ranges, watch from a revision) and
//! its embedded SQLite implementation.
//!
//! Keys follow Kubernetes' layout, `/registry/<resource>/<namespace>/<name>` (or
//! `/registry/<resource>/<name>` for cluster-scoped resources); values are opaque bytes.

mod error;
mod kv;
pub mod sqlite;
mod watch;

pub use error::StoreError;
pub use kv::{Event, EventType, KeyValue, ListResult, Revision};
pub use sqlite::SqliteStore;
pub use watch::Watcher;

use async_trait::async_trait;

pub type Result<T> = std::result::Result<T, StoreError>;

/// The storage interface the API server is written against. An etcd v3 backend maps it
/// one-to-one: `create` is a txn on `create_revision == 0`, `update`/`delete` are txns on
/// `mod_revision == expected`, `list` is a range with limit, `watch` is a watch with
/// `start_revision = after + 1`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The object at `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;
    /// Objects whose keys start with `prefix`, in key order, starting after `start_after`,
    /// at most `limit` of them (0 = no limit). `ListResult::revision` is the store revision
    /// the list was read at.
    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListResult>;
    /// Creates `key`; fails with `AlreadyExists` if it exists.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue>;
    /// Replaces `key`. With `expected` set, fails with `Conflict` unless the current
    /// modification revision equals it. Fails with `NotFound` if the key does not exist.
    async fn update(
        &self,
        key: &str,
        expected: Option<Revision>,
        value: Vec<u8>,
    ) -> Result<KeyValue>;
    /// Deletes `key`, with the same precondition as `update`. Returns the deleted value;
    /// its `mod_revision` is the revision of the deletion.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue>;
    /// Every change under `prefix` with a revision greater than `after`, then live changes.
    /// Fails with `Compacted` when `after` is older than the kept history.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<Watcher>;
    /// The newest revision.
    fn current_revision(&self) -> Revision;
    /// Forgets the history at and below `revision` (the current objects stay).
    async fn compact(&self, revision: Revision) -> Result<()>;
}
