//! Watches this node's pods and runs one worker per pod; cleans up what belongs to pods that
//! no longer exist.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::ctx::Ctx;
use crate::worker::PodWorker;

pub async fn run(ctx: Arc<Ctx>) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::all(ctx.client.clone());
    let cfg = watcher::Config::default().fields(&format!("spec.nodeName={}", ctx.cfg.node_name));
    let mut stream = watcher::watcher(api, cfg).default_backoff().boxed();
    let mut workers: HashMap<String, watch::Sender<Option<Pod>>> = HashMap::new();
    // Tasks die with the manager (agent shutdown leaves containers running).
    let mut tasks: JoinSet<String> = JoinSet::new();
    let mut listing: Option<HashSet<String>> = None;
    let mut first_listing = true;
    loop {
        tokio::select! {
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(uid) = done {
                    workers.remove(&uid);
                }
            }
            ev = stream.next() => {
                let Some(ev) = ev else { anyhow::bail!("pod watch ended") };
                match ev {
                    Err(e) => tracing::warn!("pod watch: {e}"),
                    Ok(Event::Init) => listing = Some(HashSet::new()),
                    Ok(Event::InitApply(pod)) => {
                        if let (Some(l), Some(uid)) = (listing.as_mut(), pod.metadata.uid.clone()) {
                            l.insert(uid);
                        }
                        dispatch(&ctx, &mut workers, &mut tasks, pod);
                    }
                    Ok(Event::InitDone) => {
                        let live = listing.take().unwrap_or_default();
                        for (uid, tx) in &workers {
                            if !live.contains(uid) {
                                let _ = tx.send(None);
                            }
                        }
                        if first_listing {
                            first_listing = false;
                            let ctx = ctx.clone();
                            tasks.spawn(async move {
                                crate::cleanup::orphans(&ctx, &live).await;
                                String::new()
                            });
                        }
                    }
                    Ok(Event::Apply(pod)) => dispatch(&ctx, &mut workers, &mut tasks, pod),
                    Ok(Event::Delete(pod)) => {
                        if let Some(tx) = pod.metadata.uid.as_ref().and_then(|u| workers.get(u)) {
                            let _ = tx.send(None);
                        }
                    }
                }
            }
        }
    }
}

fn dispatch(
    ctx: &Arc<Ctx>,
    workers: &mut HashMap<String, watch::Sender<Option<Pod>>>,
    tasks: &mut JoinSet<String>,
    pod: Pod,
) {
    let Some(uid) = pod.metadata.uid.clone() else {
        return;
    };
    if let Some(tx) = workers.get(&uid) {
        let _ = tx.send(Some(pod));
        return;
    }
    let (tx, rx) = watch::channel(Some(pod.clone()));
    workers.insert(uid.clone(), tx);
    let worker = PodWorker::new(ctx.clone(), pod);
    tasks.spawn(async move {
        worker.run(rx).await;
        // Let a trailing watch event for the deleted pod pass before forgetting it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        uid
    });
}
