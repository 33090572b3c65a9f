//! A watch: the backlog of events after the requested revision, then live events, filtered
//! by key prefix. A watcher that falls too far behind the live stream catches up from the
//! history instead of losing events.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::sqlite::Shared;
use crate::{Event, Result, Revision};

pub struct Watcher {
    shared: Arc<Shared>,
    prefix: String,
    backlog: VecDeque<Arc<Event>>,
    rx: broadcast::Receiver<Arc<Event>>,
    /// Revision of the last event handed out (or skipped by the prefix filter).
    last: Revision,
}

impl Watcher {
    pub(crate) fn new(
        shared: Arc<Shared>,
        prefix: String,
        backlog: Vec<Arc<Event>>,
        rx: broadcast::Receiver<Arc<Event>>,
        after: Revision,
    ) -> Self {
        Watcher {
            shared,
            prefix,
            backlog: backlog.into(),
            rx,
            last: after,
        }
    }

    /// The next event under the prefix. Returns `None` when the store is gone; an error
    /// when the history needed to catch up has been compacted.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>>> {
        loop {
            if let Some(e) = self.backlog.pop_front() {
                if e.revision() <= self.last {
                    continue;
                }
                self.last = e.revision();
                if e.kv.key.starts_with(&self.prefix) {
                    return Some(Ok(e));
                }
                continue;
            }
            match self.rx.recv().await {
                Ok(e) => {
                    if e.revision() <= self.last {
                        continue;
                    }
                    self.last = e.revision();
                    if e.kv.key.starts_with(&self.prefix) {
                        return Some(Ok(e));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let until = self.shared.state.read().map(|s| s.revision).unwrap_or(0);
                    match self.shared.history(self.last, until) {
                        Ok(events) => self.backlog = events.into(),
                        Err(e) => return Some(Err(e)),
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The revision of the last event seen (delivered or filtered out).
    pub fn last_revision(&self) -> Revision {
        self.last
    }
}
