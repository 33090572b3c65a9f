//! Updates reach prepared volumes: ConfigMap changes (atomically, checked by a concurrent
//! reader) and pod label changes through the Downward API.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

use crate::common::{eventually, read, Env};

const KEYS: [&str; 4] = ["k0", "k1", "k2", "k3"];
const PAD: usize = 128 * 1024;

fn value(version: u32, key: &str) -> String {
    format!("v{version}:{key}:{}", "x".repeat(PAD))
}

/// The version of a complete value, `None` for anything partial or malformed.
fn version_of(text: &str, key: &str) -> Option<u32> {
    let (version, rest) = text.strip_prefix('v')?.split_once(':')?;
    let pad = rest.strip_prefix(key)?.strip_prefix(':')?;
    (pad.len() == PAD && pad.bytes().all(|b| b == b'x')).then_some(())?;
    version.parse().ok()
}

fn data(version: u32) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = KEYS
        .iter()
        .map(|k| (k.to_string(), json!(value(version, k))))
        .collect();
    serde_json::Value::Object(map)
}

/// Reads the volume in a loop until stopped, recording anything a reader must never see:
/// a missing file, a partial value, or (reading through one `..data` resolution) a mixed set.
fn spawn_reader(
    dir: PathBuf,
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicU64>,
    problems: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let record = |p: String| problems.lock().unwrap_or_else(|e| e.into_inner()).push(p);
        while !stop.load(Ordering::Relaxed) {
            for key in KEYS {
                match std::fs::read_to_string(dir.join(key)) {
                    Ok(text) if version_of(&text, key).is_some() => {}
                    Ok(text) => record(format!("partial {key}: {} bytes", text.len())),
                    Err(e) => record(format!("read {key}: {e}")),
                }
            }
            match read_set(&dir) {
                Ok(versions) if versions.windows(2).all(|w| w[0] == w[1]) => {}
                Ok(versions) => record(format!("mixed set {versions:?}")),
                Err(e) => record(e),
            }
            reads.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// All keys read through a single resolution of `..data`.
fn read_set(dir: &Path) -> Result<Vec<Option<u32>>, String> {
    let version = std::fs::read_link(dir.join("..data")).map_err(|e| format!("readlink: {e}"))?;
    let base = dir.join(version);
    KEYS.iter()
        .map(|key| {
            std::fs::read_to_string(base.join(key))
                .map(|t| version_of(&t, key))
                .map_err(|e| format!("read set {key}: {e}"))
        })
        .collect()
}

#[tokio::test]
async fn config_map_updates_are_atomic_and_fast() -> anyhow::Result<()> {
    // A short resync gives many swaps for the reader to race in little time; the shipped
    // period's 10 s bound is checked by the Downward API test.
    let mut env = Env::start_with_resync(Some(Duration::from_millis(200))).await?;
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "live"}, "data": data(0)}))?;
    cms.create(&PostParams::default(), &cm).await?;
    let pod = env
        .create_pod(
            "live-pod",
            json!([{"name": "cfg", "configMap": {"name": "live"}}]),
            json!({}),
        )
        .await?;
    let paths = env.manager.prepare(&pod).await?;
    let dir = paths["cfg"].clone();
    assert_eq!(version_of(&read(&dir.join("k0")), "k0"), Some(0));
    env.start_refresher();

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let problems = Arc::new(Mutex::new(Vec::new()));
    let reader = spawn_reader(dir.clone(), stop.clone(), reads.clone(), problems.clone());

    let mut slowest = Duration::ZERO;
    let outcome: anyhow::Result<()> = async {
        for version in 1..=12u32 {
            let patch = json!({"data": data(version)});
            cms.patch("live", &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            let file = dir.join("k3");
            let took = eventually(Duration::from_secs(10), || {
                let file = file.clone();
                async move {
                    std::fs::read_to_string(&file)
                        .ok()
                        .and_then(|t| version_of(&t, "k3"))
                        == Some(version)
                }
            })
            .await?;
            slowest = slowest.max(took);
        }
        Ok(())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    outcome?;

    let problems = problems.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(problems.is_empty(), "reader saw: {problems:?}");
    assert!(
        reads.load(Ordering::Relaxed) > 10,
        "the reader ran during the updates"
    );
    assert!(
        slowest < Duration::from_secs(10),
        "slowest update took {slowest:?}"
    );
    eprintln!(
        "slowest update {slowest:?}, {} reader passes",
        reads.load(Ordering::Relaxed)
    );

    // Replaced versions are pruned after their grace period: only the current one remains.
    let only_current = eventually(Duration::from_secs(10), || {
        let dir = dir.clone();
        async move {
            std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .filter(|e| {
                            let n = e.file_name().to_string_lossy().into_owned();
                            n.starts_with("..") && n != "..data"
                        })
                        .count()
                        == 1
                })
                .unwrap_or(false)
        }
    })
    .await;
    assert!(only_current.is_ok(), "old versions were not pruned");
    env.manager
        .cleanup(pod.metadata.uid.as_deref().unwrap_or_default())
        .await?;
    Ok(())
}

#[tokio::test]
async fn downward_api_follows_label_changes() -> anyhow::Result<()> {
    let mut env = Env::start().await?;
    let pod = env
        .create_pod(
            "labelled",
            json!([{"name": "podinfo", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}},
                {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
                {"path": "cpu_limit", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}},
                {"path": "mem_limit", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}}
            ]}}]),
            json!({"app": "web", "tier": "front"}),
        )
        .await?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let paths = env.manager.prepare(&pod).await?;
    let dir = paths["podinfo"].clone();
    assert!(dir.ends_with("kubernetes.io~downward-api/podinfo"));
    assert_eq!(read(&dir.join("labels")), "app=\"web\"\ntier=\"front\"");
    assert_eq!(read(&dir.join("annotations")), "team=\"blue\"");
    assert_eq!(read(&dir.join("name")), "labelled");
    assert_eq!(read(&dir.join("uid")), uid);
    assert_eq!(read(&dir.join("app")), "web");
    assert_eq!(read(&dir.join("cpu_limit")), "250");
    assert_eq!(read(&dir.join("mem_limit")), "64");
    env.start_refresher();

    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let patch = json!({"metadata": {"labels": {"tier": "back", "new": "yes"}}});
    pods.patch("labelled", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let labels = dir.join("labels");
    let took = eventually(Duration::from_secs(10), || {
        let labels = labels.clone();
        async move {
            std::fs::read_to_string(&labels).ok().as_deref()
                == Some("app=\"web\"\nnew=\"yes\"\ntier=\"back\"")
        }
    })
    .await?;
    eprintln!("labels file updated after {took:?}");
    env.manager.cleanup(&uid).await?;
    Ok(())
}
