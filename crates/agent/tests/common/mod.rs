//! Test harness: an in-process API server, an agent with unique node/bridge/table/CIDR/cgroup
//! names, the busybox image imported, and cleanup of everything on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use peapod_agent::AgentConfig;
use peapod_network::Ipv4Cidr;
use peapod_runtime::{Runtime, RuntimeConfig};

pub const NS: &str = "default";

fn rand_u32() -> u32 {
    rand::random::<u32>()
}

/// The busybox image archive, built once per test binary.
fn busybox_archive() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Kept between runs in cargo's per-target temp dir (the build is deterministic).
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("busybox-image");
        if dir.join("busybox-docker.tar").exists() {
            return dir;
        }
        // Built aside and renamed, so an interrupted build never looks complete.
        let staging = dir.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::create_dir_all(&staging).expect("image dir");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-busybox-image.sh");
        let ok = std::process::Command::new("sh")
            .arg(&script)
            .arg(&staging)
            .status()
            .expect("running build-busybox-image.sh")
            .success();
        assert!(ok, "build-busybox-image.sh failed");
        if std::fs::rename(&staging, &dir).is_err() {
            // Another test binary won the race.
            let _ = std::fs::remove_dir_all(&staging);
        }
        dir
    })
    .join("busybox-docker.tar")
}

pub struct Env {
    pub client: Client,
    pub cfg: AgentConfig,
    pub pod_cidr: Ipv4Cidr,
    agent: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _server: peapod_apiserver::Server,
    pub tmp: tempfile::TempDir,
}

impl Env {
    pub async fn new() -> Env {
        Env::with_config(|_| {}).await
    }

    /// An environment whose agent configuration `tune` adjusts before the agent starts.
    pub async fn with_config(tune: impl FnOnce(&mut AgentConfig)) -> Env {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                std::env::var("RUST_LOG").unwrap_or_else(|_| "peapod_agent=info".into()),
            )
            .with_test_writer()
            .try_init();
        let tmp = tempfile::tempdir().expect("tempdir");
        let server = peapod_apiserver::start(peapod_apiserver::ServerConfig::local(
            tmp.path().join("api"),
        ))
        .await
        .expect("api server");
        let kc = kube::config::Kubeconfig::read_from(&server.kubeconfig).expect("kubeconfig");
        let kcfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("client config");
        let client = Client::try_from(kcfg).expect("client");
        let r = rand_u32();
        let data = tmp.path().join("node");
        let mut cfg = AgentConfig::new(
            format!("node-{:08x}", r),
            &data,
            env!("CARGO_BIN_EXE_peapod-agent-test-helper"),
        );
        cfg.bridge_name = format!("pp{:08x}", r);
        cfg.nft_table = format!("pp{:08x}", r);
        cfg.cgroup_parent = format!("peapod-agent-test-{:08x}", r);
        let pod_cidr: Ipv4Cidr = format!("10.42.{}.0/24", 1 + (r % 250))
            .parse()
            .expect("cidr");
        cfg.pod_cidr = Some(pod_cidr);
        cfg.streaming_port = 0;
        // The disk is shared with the build: an absolute threshold, not 10% of a large disk.
        cfg.eviction_hard = peapod_agent::EvictionThresholds::parse(
            "memory.available<100Mi,nodefs.available<64Mi,pid.available<10%",
        )
        .expect("thresholds");
        tune(&mut cfg);
        std::fs::create_dir_all(&data).expect("data dir");
        let store = peapod_runtime::image::ImageStore::open(&data).expect("image store");
        store.import(&busybox_archive()).expect("import busybox");
        let mut env = Env {
            client,
            cfg,
            pod_cidr,
            agent: None,
            _server: server,
            tmp,
        };
        env.start_agent();
        env.wait_node_ready().await;
        env
    }

    pub fn start_agent(&mut self) {
        let (client, cfg) = (self.client.clone(), self.cfg.clone());
        self.agent = Some(tokio::spawn(peapod_agent::run(client, cfg)));
    }

    /// Stops the agent (its pods keep running).
    pub async fn stop_agent(&mut self) {
        if let Some(a) = self.agent.take() {
            a.abort();
            let _ = a.await;
        }
    }

    async fn wait_node_ready(&self) {
        let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(self.client.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(n)) = api.get_opt(&self.cfg.node_name).await {
                let ready = n
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True");
                if ready {
                    return;
                }
            }
            if let Some(a) = &self.agent {
                assert!(!a.is_finished(), "agent exited during start-up");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node never became Ready");
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), NS)
    }

    pub fn runtime(&self) -> Runtime {
        let mut rc = RuntimeConfig::new(&self.cfg.data_dir, &self.cfg.helper_exe);
        rc.cgroup_parent = self.cfg.cgroup_parent.clone();
        Runtime::new(rc).expect("runtime")
    }

    /// Creates a pod bound to this node from JSON.
    pub async fn create(&self, mut pod: serde_json::Value) -> Pod {
        pod["spec"]["nodeName"] = serde_json::json!(self.cfg.node_name);
        let pod: Pod = serde_json::from_value(pod).expect("pod json");
        self.pods()
            .create(&PostParams::default(), &pod)
            .await
            .expect("create pod")
    }

    /// Polls the pod until `f` holds.
    pub async fn wait_for(
        &self,
        name: &str,
        secs: u64,
        what: &str,
        f: impl Fn(&Pod) -> bool,
    ) -> Pod {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(p) = self.pods().get(name).await {
                if f(&p) {
                    return p;
                }
                last = Some(p);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "timed out waiting for {what} of pod {name}; last status: {}",
            serde_json::to_string_pretty(&last.and_then(|p| p.status)).unwrap_or_default()
        );
    }

    pub async fn events_of(&self, pod: &str) -> Vec<Event> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), NS);
        api.list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(pod))
            .collect()
    }

    /// Polls the pod's events until `f` holds: the agent records events from a background
    /// writer, so they can reach the API after the status change that caused them.
    pub async fn wait_events(
        &self,
        pod: &str,
        secs: u64,
        what: &str,
        f: impl Fn(&[Event]) -> bool,
    ) -> Vec<Event> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let events = self.events_of(pod).await;
            if f(&events) {
                return events;
            }
            if Instant::now() >= deadline {
                let reasons: Vec<_> = events.iter().filter_map(|e| e.reason.clone()).collect();
                panic!("timed out waiting for {what} events of pod {pod}; have {reasons:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes the pod (graceful) and waits for the agent to remove the object.
    pub async fn delete_and_wait(&self, name: &str, secs: u64) {
        let _ = self.pods().delete(name, &DeleteParams::default()).await;
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.pods().get_opt(name).await.ok().flatten().is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("pod {name} was not removed");
    }
}

pub fn phase(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default()
}

pub fn condition(p: &Pod, kind: &str) -> Option<String> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
        .map(|c| c.status.clone())
}

pub fn restarts(p: &Pod, container: &str) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|l| l.iter().find(|c| c.name == container))
        .map(|c| c.restart_count)
        .unwrap_or(0)
}

pub fn container_id(p: &Pod, container: &str) -> Option<String> {
    p.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == container)?
        .container_id
        .as_ref()
        .and_then(|id| id.strip_prefix("peapod://").map(str::to_string))
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(a) = self.agent.take() {
            a.abort();
        }
        // Whatever the test left: sandboxes (processes, mounts, cgroups), then the network.
        let rt = self.runtime();
        for sb in rt.list_sandboxes() {
            let _ = rt.stop_sandbox(&sb.id, Duration::from_secs(0));
            let _ = rt.remove_sandbox(&sb.id);
        }
        let (cfg, cidr) = (self.cfg.clone(), self.pod_cidr);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio");
            if let Err(e) = rt.block_on(peapod_agent::destroy_network(&cfg, cidr)) {
                eprintln!("destroying test network: {e:#}");
            }
        })
        .join();
        // Mounts the test's pods may have left under its temp dir (deepest first).
        let root = self.tmp.path().to_string_lossy().to_string();
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/mounts")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
            .filter(|m| m.starts_with(&root))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = std::fs::remove_dir_all(self.cfg.data_dir.join("images"));
        // The runtime removes pod cgroups; the test's cgroup parent is ours to remove.
        if let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") {
            for c in controllers.flatten() {
                let _ = std::fs::remove_dir(c.path().join(&self.cfg.cgroup_parent));
            }
        }
    }
}

/// Runs a command in a container through the runtime.
pub fn exec(rt: &Runtime, id: &str, cmd: &[&str]) -> (i32, String) {
    let out = rt
        .exec_sync(id, cmd, b"", Duration::from_secs(10))
        .expect("exec");
    (
        out.exit_code,
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}
