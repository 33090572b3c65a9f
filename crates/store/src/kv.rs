use std::sync::Arc;

/// A store revision: one counter for every change, like etcd's.
pub type Revision = i64;

#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value: Arc<[u8]>,
    /// Revision that created the key (stays across updates).
    pub create_revision: Revision,
    /// Revision of the last change (for a deleted value: the deletion).
    pub mod_revision: Revision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Put,
    Delete,
}

/// One change. For a `Put`, `kv` is the new value and `prev` the old one (None on create);
/// for a `Delete`, `kv` holds the last value with `mod_revision` = the deletion's revision.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventType,
    pub kv: KeyValue,
    pub prev: Option<KeyValue>,
}

impl Event {
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
    pub fn is_create(&self) -> bool {
        self.kind == EventType::Put && self.kv.create_revision == self.kv.mod_revision
    }
}

#[derive(Debug, Clone)]
pub struct ListResult {
    pub kvs: Vec<KeyValue>,
    pub revision: Revision,
    /// True when `limit` cut the range short.
    pub more: bool,
}
