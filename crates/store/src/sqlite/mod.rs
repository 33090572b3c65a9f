//! The embedded store: SQLite (WAL, `synchronous=FULL`) is the durable truth; a copy of
//! the current objects and of the recent events lives in memory so that reads, lists and
//! watch fan-out never touch the disk.
//!
//! Writes go through one writer thread that commits whatever has queued up in a single
//! transaction (group commit): every acknowledged write has been fsynced, yet a burst of
//! concurrent writes costs one fsync, not one each.

mod schema;
mod writer;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use tokio::sync::{broadcast, oneshot};

use crate::watch::Watcher;
use crate::{Event, KeyValue, ListResult, Result, Revision, Store, StoreError};
use writer::{WriteOp, WriteRequest};

/// Events kept in memory for watchers resuming from a recent revision.
const RECENT_EVENTS: usize = 20_000;
/// Revisions of history kept on disk before automatic compaction.
const DEFAULT_HISTORY: i64 = 100_000;

pub struct SqliteStore {
    shared: Arc<Shared>,
    writer: std::sync::mpsc::Sender<WriteRequest>,
}

/// State shared by readers, watchers and the writer thread.
pub(crate) struct Shared {
    pub(crate) state: RwLock<State>,
    pub(crate) events: broadcast::Sender<Arc<Event>>,
    /// A read-only connection for history older than the in-memory window.
    history: Mutex<rusqlite::Connection>,
}

pub(crate) struct State {
    pub(crate) objects: BTreeMap<String, KeyValue>,
    pub(crate) revision: Revision,
    pub(crate) compacted: Revision,
    pub(crate) recent: VecDeque<Arc<Event>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_history(path, DEFAULT_HISTORY)
    }

    /// Like `open`, keeping `history` revisions of events before compacting.
    pub fn open_with_history(path: &Path, history: i64) -> Result<Self> {
        let conn = schema::open(path)?;
        let (objects, revision, compacted) = schema::load(&conn)?;
        let history_conn = schema::open_reader(path)?;
        let (events, _) = broadcast::channel(65_536);
        let shared = Arc::new(Shared {
            state: RwLock::new(State {
                objects,
                revision,
                compacted,
                recent: VecDeque::new(),
            }),
            events,
            history: Mutex::new(history_conn),
        });
        let writer = writer::spawn(conn, shared.clone(), history, PathBuf::from(path))?;
        Ok(SqliteStore { shared, writer })
    }

    async fn submit(&self, op: WriteOp) -> Result<KeyValue> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(WriteRequest { op, reply })
            .map_err(|_| StoreError::Internal("store writer stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Internal("store writer stopped".into()))?
    }

    /// Number of objects currently stored (for metrics).
    pub fn object_count(&self) -> usize {
        self.shared
            .state
            .read()
            .map(|s| s.objects.len())
            .unwrap_or(0)
    }
}

impl Shared {
    /// Events after `after` (up to and including `until`), from memory when the window
    /// covers them, else from the on-disk log.
    pub(crate) fn history(&self, after: Revision, until: Revision) -> Result<Vec<Arc<Event>>> {
        {
            let state = self.state.read().map_err(poisoned)?;
            if after < state.compacted {
                return Err(StoreError::Compacted {
                    compacted: state.compacted,
                });
            }
            let oldest = state.recent.front().map(|e| e.revision());
            if after >= state.revision || oldest.is_some_and(|o| o <= after + 1) {
                return Ok(state
                    .recent
                    .iter()
                    .filter(|e| e.revision() > after && e.revision() <= until)
                    .cloned()
                    .collect());
            }
        }
        let conn = self.history.lock().map_err(poisoned)?;
        schema::read_log(&conn, after, until)
    }
}

pub(crate) fn poisoned<T>(_: T) -> StoreError {
    StoreError::Internal("store lock poisoned".into())
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let state = self.shared.state.read().map_err(poisoned)?;
        Ok(state.objects.get(key).cloned())
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        use std::ops::Bound;
        let state = self.shared.state.read().map_err(poisoned)?;
        let lower = match start_after {
            Some(k) if k >= prefix => Bound::Excluded(k.to_string()),
            _ => Bound::Included(prefix.to_string()),
        };
        let mut kvs = Vec::new();
        let mut more = false;
        for (k, v) in state.objects.range((lower, Bound::Unbounded)) {
            if !k.starts_with(prefix) {
                break;
            }
            if limit > 0 && kvs.len() == limit {
                more = true;
                break;
            }
            kvs.push(v.clone());
        }
        Ok(ListResult {
            kvs,
            revision: state.revision,
            more,
        })
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue> {
        self.submit(WriteOp::Create {
            key: key.to_string(),
            value,
        })
        .await
    }

    async fn update(
        &self,
        key: &str,
        expected: Option<Revision>,
        value: Vec<u8>,
    ) -> Result<KeyValue> {
        self.submit(WriteOp::Update {
            key: key.to_string(),
            expected,
            value,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        self.submit(WriteOp::Delete {
            key: key.to_string(),
            expected,
        })
        .await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<Watcher> {
        // Subscribe before reading the backlog so nothing falls between the two.
        let rx = self.shared.events.subscribe();
        let until = self.current_revision();
        let backlog = self.shared.history(after, until)?;
        Ok(Watcher::new(
            self.shared.clone(),
            prefix.to_string(),
            backlog,
            rx,
            after.max(0),
        ))
    }

    fn current_revision(&self) -> Revision {
        self.shared.state.read().map(|s| s.revision).unwrap_or(0)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.submit(WriteOp::Compact { revision }).await.map(|_| ())
    }
}
