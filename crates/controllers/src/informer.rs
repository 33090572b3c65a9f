//! Shared informers: one watch and one cache per resource type for all controllers, with
//! every change fanned out to the controllers that subscribed (after the cache holds it, so
//! a reconcile triggered by an event always sees at least that event's state).

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Resource;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

/// What happened to one object.
pub enum Change<K> {
    Applied(Arc<K>),
    Deleted(Arc<K>),
}

impl<K> Change<K> {
    pub fn object(&self) -> &K {
        match self {
            Change::Applied(o) | Change::Deleted(o) => o,
        }
    }
}

pub struct Informer<K: Resource<DynamicType = ()> + Clone + 'static> {
    api: Api<K>,
    store: Store<K>,
    writer: Mutex<Option<reflector::store::Writer<K>>>,
    subscribers: Mutex<Subscribers<K>>,
}

struct Subscribers<K> {
    senders: Vec<mpsc::UnboundedSender<Change<K>>>,
    /// The first list is done: late subscribers get the cache replayed.
    listed: bool,
}

impl<K> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    pub fn new(api: Api<K>) -> Arc<Self> {
        let (store, writer) = reflector::store();
        Arc::new(Informer {
            api,
            store,
            writer: Mutex::new(Some(writer)),
            subscribers: Mutex::new(Subscribers {
                senders: Vec::new(),
                listed: false,
            }),
        })
    }

    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Every change from now on, preceded by the cached objects if the first list is done.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Change<K>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut subs = lock(&self.subscribers);
        if subs.listed {
            for o in self.store.state() {
                let _ = tx.send(Change::Applied(o));
            }
        }
        subs.senders.push(tx);
        rx
    }

    fn publish(&self, make: impl Fn() -> Change<K>) {
        lock(&self.subscribers)
            .senders
            .retain(|s| s.send(make()).is_ok());
    }

    /// Watches until the process ends (the watcher re-lists and retries on its own).
    pub async fn run(self: Arc<Self>) {
        let Some(writer) = lock(&self.writer).take() else {
            tracing::warn!("informer started twice");
            return;
        };
        let events = watcher(self.api.clone(), watcher::Config::default()).default_backoff();
        let mut stream = reflector::reflector(writer, events).boxed();
        while let Some(event) = stream.next().await {
            match event {
                Ok(watcher::Event::Apply(o)) => {
                    let o = Arc::new(o);
                    self.publish(|| Change::Applied(o.clone()));
                }
                Ok(watcher::Event::Delete(o)) => {
                    let o = Arc::new(o);
                    self.publish(|| Change::Deleted(o.clone()));
                }
                Ok(watcher::Event::InitDone) => {
                    let mut subs = lock(&self.subscribers);
                    subs.listed = true;
                    for o in self.store.state() {
                        subs.senders
                            .retain(|s| s.send(Change::Applied(o.clone())).is_ok());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(kind = %K::kind(&()), error = %e, "watch error (retrying)")
                }
            }
        }
    }
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
