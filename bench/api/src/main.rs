//! API server benchmark: durable pod creates per second, list latency with 10k pods, and the
//! time for one event to reach 1,000 concurrent watchers. Starts a server in-process on a
//! temporary data dir and drives it over HTTPS with kube-rs, as any client would.
//!
//! Usage: api-bench [--pods 10000] [--watchers 1000] [--concurrency 64]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}
    }))
    .expect("pod")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn client(kubeconfig: &std::path::Path) -> anyhow::Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    Ok(kube::Client::try_from(cfg)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pods_n = arg("--pods", 10_000);
    let watchers_n = arg("--watchers", 1_000);
    let concurrency = arg("--concurrency", 64);
    let dir = tempfile::tempdir()?;
    let server = peapod_apiserver::start(peapod_apiserver::ServerConfig::local(
        dir.path().join("data"),
    ))
    .await?;
    let c = client(&server.kubeconfig).await?;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");

    // 1. Creates per second, each acknowledged only once durable.
    let start = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let pods = pods.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= pods_n {
                    break;
                }
                pods.create(&PostParams::default(), &pod(&format!("p{i:05}")))
                    .await
                    .expect("create");
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "creates: {pods_n} pods in {secs:.2}s = {:.0} creates/s (concurrency {concurrency})",
        pods_n as f64 / secs
    );

    // 2. List latency with all of them.
    let mut lat = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let list = pods.list(&ListParams::default()).await?;
        assert_eq!(list.items.len(), pods_n);
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "list {pods_n} pods: p50 {:?} p99 {:?}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    // 3. Fan-out: one event to N watchers.
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let rv = cms
        .list(&ListParams::default().limit(1))
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let ready = Arc::new(tokio::sync::Barrier::new(watchers_n + 1));
    let mut watchers = Vec::new();
    for _ in 0..watchers_n {
        let cms = cms.clone();
        let rv = rv.clone();
        let ready = ready.clone();
        watchers.push(tokio::spawn(async move {
            let mut s = cms
                .watch(&WatchParams::default().timeout(120), &rv)
                .await
                .expect("watch")
                .boxed();
            ready.wait().await;
            while let Some(ev) = s.try_next().await.expect("event") {
                if let WatchEvent::Added(_) = ev {
                    return Instant::now();
                }
            }
            panic!("watch ended")
        }));
    }
    ready.wait().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "fanout"}}))?;
    cms.create(&PostParams::default(), &cm).await?;
    let mut arrivals = Vec::new();
    for w in watchers {
        arrivals.push(w.await?.duration_since(t0));
    }
    arrivals.sort();
    println!(
        "watch fan-out to {watchers_n} watchers: first {:?} p50 {:?} last {:?}",
        arrivals[0],
        percentile(&arrivals, 0.5),
        arrivals[arrivals.len() - 1]
    );
    Ok(())
}
