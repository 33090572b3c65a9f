//! Pod start-up benchmark against a running peapod server (with its node agent): time from
//! create to "all containers Running" as seen by a watch, for 1- and 2-container busybox pods
//! (image already on the node), then a burst of N pods until all are Running.
//!
//! Usage: pod-startup KUBECONFIG [--runs 50] [--burst 100] [--server-pid PID --data-dir DIR]
//! With `--server-pid`, the server's RSS and the pods' supervisor memory are read while
//! the burst's pods all run. With `--data-dir`, each sample waits for the node to finish
//! tearing down the previous pod.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams, WatchEvent, WatchParams};

fn flag(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pod(name: &str, containers: usize) -> Pod {
    let cs: Vec<serde_json::Value> = (0..containers)
        .map(|i| serde_json::json!({"name": format!("c{i}"), "image": "busybox", "imagePullPolicy": "IfNotPresent", "command": ["sleep", "3600"]}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "startup"}},
        "spec": {"containers": cs, "terminationGracePeriodSeconds": 0}
    }))
    .expect("pod")
}

fn running(p: &Pod) -> bool {
    let Some(st) = p.status.as_ref() else {
        return false;
    };
    let n = p.spec.as_ref().map(|s| s.containers.len()).unwrap_or(0);
    let cs = st.container_statuses.as_deref().unwrap_or_default();
    cs.len() == n
        && cs
            .iter()
            .all(|c| c.state.as_ref().and_then(|s| s.running.as_ref()).is_some())
}

/// When a pod reached each step, from its create call: bound to the node (scheduler), first
/// status from the node agent (`startTime`), all containers Running.
#[derive(Default, Clone, Copy)]
struct Steps {
    /// The create call returned (the API server has stored the pod).
    created: Option<Duration>,
    bound: Option<Duration>,
    accepted: Option<Duration>,
    running: Duration,
}

/// Creates `names` (all at once) and returns each one's create→Running latency.
async fn start(
    pods: &Api<Pod>,
    names: &[String],
    containers: usize,
) -> anyhow::Result<Vec<Duration>> {
    Ok(start_steps(pods, names, containers)
        .await?
        .into_iter()
        .map(|s| s.running)
        .collect())
}

async fn start_steps(
    pods: &Api<Pod>,
    names: &[String],
    containers: usize,
) -> anyhow::Result<Vec<Steps>> {
    let rv = pods
        .list(&Default::default())
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let mut watch = pods
        .watch(
            &WatchParams::default().labels("bench=startup").timeout(290),
            &rv,
        )
        .await?
        .boxed();
    let mut created = HashMap::new();
    let mut steps: HashMap<String, Steps> = HashMap::new();
    for n in names {
        let t = Instant::now();
        pods.create(&PostParams::default(), &pod(n, containers))
            .await?;
        steps.entry(n.clone()).or_default().created = Some(t.elapsed());
        created.insert(n.clone(), t);
    }
    let mut done = 0;
    while done < names.len() {
        match watch.try_next().await? {
            Some(WatchEvent::Added(p)) | Some(WatchEvent::Modified(p)) => {
                let name = p.metadata.name.clone().unwrap_or_default();
                let Some(t) = created.get(&name) else {
                    continue;
                };
                let s = steps.entry(name).or_default();
                if s.bound.is_none() && p.spec.as_ref().is_some_and(|s| s.node_name.is_some()) {
                    s.bound = Some(t.elapsed());
                }
                if s.accepted.is_none() && p.status.as_ref().is_some_and(|s| s.start_time.is_some())
                {
                    s.accepted = Some(t.elapsed());
                }
                if running(&p) && s.running.is_zero() {
                    s.running = t.elapsed();
                    done += 1;
                }
            }
            Some(_) => {}
            None => anyhow::bail!("watch ended"),
        }
    }
    Ok(names.iter().map(|n| steps[n]).collect())
}

async fn delete(pods: &Api<Pod>, names: &[String]) -> anyhow::Result<()> {
    for n in names {
        pods.delete(n, &DeleteParams::default()).await?;
    }
    wait_gone(pods).await
}

/// kB from a `/proc/PID/status` or `smaps_rollup` line such as `VmRSS:   1234 kB`.
fn proc_kb(path: &str, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// (RSS of the server, count, RSS and PSS summed over the pods' supervisors and pause
/// processes), in kB.
fn memory(server_pid: u32, data_dir: &str) -> (u64, usize, u64, u64) {
    let server = proc_kb(&format!("/proc/{server_pid}/status"), "VmRSS:");
    let (mut n, mut rss, mut pss) = (0, 0, 0);
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = e.file_name().to_string_lossy().to_string();
        if pid.parse::<u32>().is_err() {
            continue;
        }
        // Supervisors (`pod-supervisor`) and their pause clones keep their stderr in the
        // sandbox directory.
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let log = std::fs::read_link(format!("/proc/{pid}/fd/2")).unwrap_or_default();
        let ours = log.to_string_lossy().contains(data_dir);
        if ours && matches!(comm.trim(), "pod-supervisor" | "pause") {
            n += 1;
            rss += proc_kb(&format!("/proc/{pid}/smaps_rollup"), "Rss:");
            pss += proc_kb(&format!("/proc/{pid}/smaps_rollup"), "Pss:");
        }
    }
    (server, n, rss, pss)
}

fn report(what: &str, mut v: Vec<Duration>) {
    if v.is_empty() {
        return;
    }
    v.sort();
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{what}: n={} p50 {:?} p99 {:?} max {:?}",
        v.len(),
        p(0.5),
        p(0.99),
        v[v.len() - 1]
    );
}

/// Waits until the node has torn down every sandbox (with `--data-dir`): a pod is gone
/// from the API before its sandbox is, and each sample should start on an idle node, as
/// the podman baseline's does (it removes each pod before starting the next).
async fn node_idle(data_dir: Option<&str>) {
    let Some(dir) = data_dir else { return };
    let sandboxes = std::path::Path::new(dir).join("sandboxes");
    for _ in 0..300 {
        let busy = std::fs::read_dir(&sandboxes).is_ok_and(|mut d| d.next().is_some());
        if !busy {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_gone(pods: &Api<Pod>) -> anyhow::Result<()> {
    for _ in 0..600 {
        if pods
            .list(&kube::api::ListParams::default().labels("bench=startup"))
            .await?
            .items
            .is_empty()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("pods were not removed")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let path = std::env::args()
        .nth(1)
        .expect("usage: pod-startup KUBECONFIG [--runs N] [--burst N]");
    let kc = kube::config::Kubeconfig::read_from(path)?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
    )?;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let runs = arg("--runs", 50);
    let burst = arg("--burst", 100);
    let server_pid = flag("--server-pid").and_then(|p| p.parse::<u32>().ok());
    let data_dir = flag("--data-dir");
    for containers in [1, 2] {
        let mut all = Vec::new();
        for i in 0..runs {
            let name = [format!("s{containers}-{i}")];
            all.extend(start_steps(&pods, &name, containers).await?);
            delete(&pods, &name).await?;
            node_idle(data_dir.as_deref()).await;
        }
        let mut slowest: Vec<(Duration, usize)> = all
            .iter()
            .enumerate()
            .map(|(i, s)| (s.running, i))
            .collect();
        slowest.sort();
        let slowest: Vec<String> = slowest
            .iter()
            .rev()
            .take(3)
            .map(|(d, i)| format!("s{containers}-{i} {d:?}"))
            .collect();
        let step = |f: fn(&Steps) -> Option<Duration>| all.iter().filter_map(f).collect::<Vec<_>>();
        report(
            &format!("{containers}-container pod, create→Running"),
            step(|s| Some(s.running)),
        );
        report("  of which the create call", step(|s| s.created));
        report("  create→bound (scheduler)", step(|s| s.bound));
        report("  create→first node status", step(|s| s.accepted));
        println!("  slowest: {}", slowest.join(", "));
    }
    if burst == 0 {
        return Ok(());
    }
    let names: Vec<String> = (0..burst).map(|i| format!("burst-{i}")).collect();
    let t = Instant::now();
    let lat = start(&pods, &names, 1).await?;
    println!("burst of {burst} pods: all Running after {:?}", t.elapsed());
    report("burst, per pod", lat);
    if let Some(pid) = server_pid {
        let (server, n, rss, pss) = memory(pid, data_dir.as_deref().unwrap_or_default());
        println!(
            "with {burst} pods running: server RSS {:.1} MB; {n} supervisor/pause processes: \
             RSS {:.1} MB, PSS {:.1} MB in all",
            server as f64 / 1024.0,
            rss as f64 / 1024.0,
            pss as f64 / 1024.0
        );
    }
    // `--keep`: leave the burst's pods running (to measure the node with them).
    if !std::env::args().any(|a| a == "--keep") {
        delete(&pods, &names).await?;
    }
    Ok(())
}
