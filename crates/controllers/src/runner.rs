//! Runs one reconcile loop on kube-runtime's `Controller`: the primary objects come from a
//! shared informer, other objects' changes are mapped to primaries, failed reconciles are
//! retried with per-object exponential backoff.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::Resource;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_stream_shim::receiver_stream;

use crate::informer::{lock, Change, Informer};

/// A reconcile failure (anyhow inside, so the `Controller` can carry it).
#[derive(Debug)]
pub struct ReconcileError(pub anyhow::Error);

impl std::fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for ReconcileError {}

impl From<anyhow::Error> for ReconcileError {
    fn from(e: anyhow::Error) -> Self {
        ReconcileError(e)
    }
}

impl From<kube::Error> for ReconcileError {
    fn from(e: kube::Error) -> Self {
        ReconcileError(e.into())
    }
}

pub type ReconcileResult = Result<Action, ReconcileError>;

/// Maps changes of another kind to the primaries they concern.
pub fn map_changes<C, K>(
    rx: UnboundedReceiver<Change<C>>,
    map: impl Fn(&Change<C>) -> Vec<ObjectRef<K>> + Send + 'static,
) -> BoxStream<'static, ObjectRef<K>>
where
    C: Send + Sync + 'static,
    K: Resource<DynamicType = ()> + Send + 'static,
{
    receiver_stream(rx)
        .flat_map(move |c| stream::iter(map(&c)))
        .boxed()
}

/// Runs until the stream of reconciles ends (it does not, short of process shutdown).
pub async fn run<K, Ctx, Fut>(
    name: &'static str,
    primary: &Informer<K>,
    triggers: Vec<BoxStream<'static, ObjectRef<K>>>,
    workers: usize,
    ctx: Arc<Ctx>,
    reconcile: fn(Arc<K>, Arc<Ctx>) -> Fut,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    Ctx: Send + Sync + 'static,
    Fut: Future<Output = ReconcileResult> + Send + 'static,
{
    let applied = receiver_stream(primary.subscribe()).filter_map(|c| async move {
        match c {
            Change::Applied(o) => Some(Ok((*o).clone())),
            Change::Deleted(_) => None,
        }
    });
    let mut controller = Controller::for_stream(applied, primary.store()).with_config(
        Config::default().concurrency(u16::try_from(workers.max(1)).unwrap_or(u16::MAX)),
    );
    for t in triggers {
        controller = controller.reconcile_on(t);
    }
    let failures: Arc<Mutex<HashMap<ObjectRef<K>, u32>>> = Arc::default();
    let on_ok = failures.clone();
    let on_err = failures;
    controller
        .run(
            move |obj, ctx| {
                let key = ObjectRef::from_obj(&*obj);
                let failures = on_ok.clone();
                let fut = reconcile(obj, ctx);
                async move {
                    let out = fut.await;
                    if out.is_ok() {
                        lock(&failures).remove(&key);
                    }
                    out
                }
            },
            move |obj, err, _ctx| {
                let key = ObjectRef::from_obj(&*obj);
                let mut f = lock(&on_err);
                let n = f.entry(key.clone()).or_insert(0);
                *n = n.saturating_add(1);
                let delay = backoff(*n);
                tracing::debug!(controller = name, object = %key, error = %err, retry_in = ?delay, "reconcile failed");
                Action::requeue(delay)
            },
            ctx,
        )
        .for_each(|_| async {})
        .await;
}

/// 100 ms doubling per consecutive failure, at most 60 s.
fn backoff(failures: u32) -> Duration {
    let ms = 100u64.saturating_mul(1u64 << failures.saturating_sub(1).min(16));
    Duration::from_millis(ms.min(60_000))
}

mod tokio_stream_shim {
    use futures::Stream;
    use tokio::sync::mpsc::UnboundedReceiver;

    pub fn receiver_stream<T: Send + 'static>(
        rx: UnboundedReceiver<T>,
    ) -> impl Stream<Item = T> + Send + 'static {
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
    }
}

/// Pod changes as triggers for a pod-owning workload kind: a pod concerns its controlling
/// object of `kind`, or, for an orphan, every object of that kind in its namespace whose
/// selector matches its labels (`selects`; one of them may adopt it).
pub fn owned_pod_triggers<K>(
    pods: UnboundedReceiver<Change<k8s_openapi::api::core::v1::Pod>>,
    store: kube::runtime::reflector::Store<K>,
    kind: &'static str,
    selects: fn(&K, Option<&std::collections::BTreeMap<String, String>>) -> bool,
) -> BoxStream<'static, ObjectRef<K>>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    use kube::ResourceExt;
    map_changes(pods, move |c| {
        let pod = c.object();
        let ns = pod.namespace().unwrap_or_default();
        if let Some(r) = crate::ownership::controller_of(&pod.metadata) {
            return if r.kind == kind {
                vec![ObjectRef::new(&r.name).within(&ns)]
            } else {
                vec![]
            };
        }
        store
            .state()
            .iter()
            .filter(|o| o.namespace().as_deref() == Some(&ns))
            .filter(|o| selects(o, pod.metadata.labels.as_ref()))
            .map(|o| ObjectRef::from_obj(&**o))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }
}
