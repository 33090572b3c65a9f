//! The single writer: batches queued writes into one transaction (group commit), checks
//! preconditions against the in-memory state plus the batch's own earlier writes, commits,
//! then publishes the new state and events and answers the callers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{poisoned, schema, Shared, RECENT_EVENTS};
use crate::{Event, EventType, KeyValue, Result, Revision, StoreError};

/// Largest number of writes committed in one transaction.
const MAX_BATCH: usize = 2_000;

pub(super) enum WriteOp {
    Create {
        key: String,
        value: Vec<u8>,
    },
    Update {
        key: String,
        expected: Option<Revision>,
        value: Vec<u8>,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
    Compact {
        revision: Revision,
    },
}

pub(super) struct WriteRequest {
    pub op: WriteOp,
    pub reply: oneshot::Sender<Result<KeyValue>>,
}

pub(super) fn spawn(
    conn: Connection,
    shared: Arc<Shared>,
    history: i64,
    path: PathBuf,
) -> Result<Sender<WriteRequest>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(conn, shared, rx, history, path))
        .map_err(|e| StoreError::Internal(format!("spawn writer: {e}")))?;
    Ok(tx)
}

fn run(
    mut conn: Connection,
    shared: Arc<Shared>,
    rx: Receiver<WriteRequest>,
    history: i64,
    path: PathBuf,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if let Err(e) = commit_batch(&mut conn, &shared, batch, history) {
            tracing::error!(db = %path.display(), error = %e, "store batch failed");
        }
    }
}

/// What a write will do once committed.
enum Outcome {
    Put {
        kv: KeyValue,
        prev: Option<KeyValue>,
    },
    Delete {
        kv: KeyValue,
        prev: KeyValue,
    },
    Compacted(Revision),
}

fn commit_batch(
    conn: &mut Connection,
    shared: &Shared,
    batch: Vec<WriteRequest>,
    history: i64,
) -> Result<()> {
    let (mut revision, compacted) = {
        let s = shared.state.read().map_err(poisoned)?;
        (s.revision, s.compacted)
    };
    // The batch's own writes, seen by later writes in the same batch.
    let mut pending: HashMap<String, Option<KeyValue>> = HashMap::new();
    let mut results: Vec<(oneshot::Sender<Result<KeyValue>>, Result<Outcome>)> = Vec::new();
    let tx = conn.transaction()?;
    {
        let state = shared.state.read().map_err(poisoned)?;
        let current =
            |pending: &HashMap<String, Option<KeyValue>>, key: &str| match pending.get(key) {
                Some(v) => v.clone(),
                None => state.objects.get(key).cloned(),
            };
        for req in batch {
            let outcome = match req.op {
                WriteOp::Create { key, value } => match current(&pending, &key) {
                    Some(_) => Err(StoreError::AlreadyExists),
                    None => {
                        revision += 1;
                        let kv = KeyValue {
                            key: key.clone(),
                            value: Arc::from(value),
                            create_revision: revision,
                            mod_revision: revision,
                        };
                        schema::put(&tx, &kv, None).map(|_| {
                            pending.insert(key, Some(kv.clone()));
                            Outcome::Put { kv, prev: None }
                        })
                    }
                },
                WriteOp::Update {
                    key,
                    expected,
                    value,
                } => match check(current(&pending, &key), expected) {
                    Err(e) => Err(e),
                    Ok(prev) => {
                        revision += 1;
                        let kv = KeyValue {
                            key: key.clone(),
                            value: Arc::from(value),
                            create_revision: prev.create_revision,
                            mod_revision: revision,
                        };
                        schema::put(&tx, &kv, Some(prev.mod_revision)).map(|_| {
                            pending.insert(key, Some(kv.clone()));
                            Outcome::Put {
                                kv,
                                prev: Some(prev),
                            }
                        })
                    }
                },
                WriteOp::Delete { key, expected } => match check(current(&pending, &key), expected)
                {
                    Err(e) => Err(e),
                    Ok(prev) => {
                        revision += 1;
                        let kv = KeyValue {
                            mod_revision: revision,
                            ..prev.clone()
                        };
                        schema::delete(&tx, &kv, prev.mod_revision).map(|_| {
                            pending.insert(key, None);
                            Outcome::Delete { kv, prev }
                        })
                    }
                },
                WriteOp::Compact { revision: r } => {
                    let r = r.min(revision);
                    if r <= compacted {
                        Ok(Outcome::Compacted(compacted))
                    } else {
                        schema::compact(&tx, r).map(|_| Outcome::Compacted(r))
                    }
                }
            };
            results.push((req.reply, outcome));
        }
    }
    // Automatic compaction keeps the on-disk history bounded.
    let auto_compact = revision - history;
    let mut new_compacted = None;
    if auto_compact > compacted + 1_000 {
        schema::compact(&tx, auto_compact)?;
        new_compacted = Some(auto_compact);
    }
    schema::set_meta(&tx, "revision", revision)?;
    if let Err(e) = tx.commit() {
        let err = StoreError::from(e);
        for (reply, _) in results {
            let _ = reply.send(Err(err.clone()));
        }
        return Err(err);
    }
    publish(shared, revision, new_compacted, results)
}

fn check(current: Option<KeyValue>, expected: Option<Revision>) -> Result<KeyValue> {
    let cur = current.ok_or(StoreError::NotFound)?;
    match expected {
        Some(rev) if rev != cur.mod_revision => Err(StoreError::Conflict {
            current: cur.mod_revision,
        }),
        _ => Ok(cur),
    }
}

/// Makes the committed batch visible: objects, revision, recent events, watchers, callers.
fn publish(
    shared: &Shared,
    revision: Revision,
    auto_compacted: Option<Revision>,
    results: Vec<(oneshot::Sender<Result<KeyValue>>, Result<Outcome>)>,
) -> Result<()> {
    let mut events = Vec::new();
    let mut replies = Vec::new();
    {
        let mut state = shared.state.write().map_err(poisoned)?;
        state.revision = revision;
        if let Some(c) = auto_compacted {
            state.compacted = state.compacted.max(c);
        }
        for (reply, outcome) in results {
            let answer = match outcome {
                Ok(Outcome::Put { kv, prev }) => {
                    state.objects.insert(kv.key.clone(), kv.clone());
                    events.push(Arc::new(Event {
                        kind: EventType::Put,
                        kv: kv.clone(),
                        prev,
                    }));
                    Ok(kv)
                }
                Ok(Outcome::Delete { kv, prev }) => {
                    state.objects.remove(&kv.key);
                    events.push(Arc::new(Event {
                        kind: EventType::Delete,
                        kv: kv.clone(),
                        prev: Some(prev),
                    }));
                    Ok(kv)
                }
                Ok(Outcome::Compacted(r)) => {
                    state.compacted = state.compacted.max(r);
                    Ok(KeyValue {
                        key: String::new(),
                        value: Arc::from(Vec::new()),
                        create_revision: 0,
                        mod_revision: r,
                    })
                }
                Err(e) => Err(e),
            };
            replies.push((reply, answer));
        }
        for e in &events {
            state.recent.push_back(e.clone());
        }
        while state.recent.len() > RECENT_EVENTS {
            state.recent.pop_front();
        }
        let compacted = state.compacted;
        while state
            .recent
            .front()
            .is_some_and(|e| e.revision() <= compacted)
        {
            state.recent.pop_front();
        }
    }
    for e in events {
        // No receivers is fine.
        let _ = shared.events.send(e);
    }
    for (reply, answer) in replies {
        let _ = reply.send(answer);
    }
    Ok(())
}
