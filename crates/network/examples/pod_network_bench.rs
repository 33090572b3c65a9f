//! Pod network setup + teardown latency, built-in vs CNI plugins.
//!
//! Runs entirely inside a private "host" network namespace (nothing on the machine
//! changes): N pod namespaces are attached and detached one after the other.
//! Usage: pod_network_bench [PODS] [CNI_BIN_DIR]   (defaults: 200, /usr/lib/cni)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use peapod_network::{
    BuiltinConfig, BuiltinNetwork, CniConfig, CniNetwork, PodNetwork, PodNetworkRequest,
};

/// A network namespace pinned on a file; unmounted on drop.
struct Netns(PathBuf);

impl Netns {
    fn new(dir: &Path, name: &str) -> std::io::Result<Netns> {
        let path = dir.join(name);
        std::fs::File::create(&path)?;
        let target = path.clone();
        std::thread::spawn(move || -> nix::Result<()> {
            unshare(CloneFlags::CLONE_NEWNET)?;
            mount(
                Some("/proc/thread-self/ns/net"),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        })
        .join()
        .map_err(|_| std::io::Error::other("netns thread panicked"))?
        .map_err(std::io::Error::from)?;
        Ok(Netns(path))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

struct Stats {
    setup: Vec<Duration>,
    teardown: Vec<Duration>,
    total: Vec<Duration>,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(idx)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN)
}

fn print(name: &str, s: &mut Stats) {
    for (what, v) in [
        ("setup", &mut s.setup),
        ("teardown", &mut s.teardown),
        ("setup+teardown", &mut s.total),
    ] {
        v.sort();
        println!(
            "{name:8} {what:15} n={} p50={:.2}ms p99={:.2}ms max={:.2}ms",
            v.len(),
            pct(v, 0.50),
            pct(v, 0.99),
            pct(v, 1.0)
        );
    }
}

async fn run(
    net: &dyn PodNetwork,
    pods: &[Netns],
    tag: &str,
) -> Result<Stats, Box<dyn std::error::Error>> {
    let mut s = Stats {
        setup: vec![],
        teardown: vec![],
        total: vec![],
    };
    for (i, pod) in pods.iter().enumerate() {
        let req = PodNetworkRequest {
            pod_namespace: "bench".into(),
            pod_name: format!("pod-{i}"),
            pod_uid: format!("uid-{i}"),
            sandbox_id: format!("{tag}-{i}"),
            netns_path: pod.0.clone(),
            port_mappings: vec![],
        };
        let t0 = Instant::now();
        net.setup(&req).await?;
        let t1 = Instant::now();
        net.teardown(&req.sandbox_id, Some(&pod.0)).await?;
        let t2 = Instant::now();
        s.setup.push(t1 - t0);
        s.teardown.push(t2 - t1);
        s.total.push(t2 - t0);
    }
    Ok(s)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let cni_bin = PathBuf::from(args.next().unwrap_or_else(|| "/usr/lib/cni".into()));
    let dir = tempfile::Builder::new()
        .prefix("peapod-net-bench-")
        .tempdir()?;
    let host = Netns::new(dir.path(), "host")?;
    let pods = (0..n)
        .map(|i| Netns::new(dir.path(), &format!("pod{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let host_file = std::fs::File::open(&host.0)?;
    let data = dir.path().to_path_buf();
    let result = std::thread::spawn(move || -> Result<(), String> {
        setns(&host_file, CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        rt.block_on(async {
            let mut cfg = BuiltinConfig::new("10.42.250.0/24".parse().map_err(|e| format!("{e}"))?, data.join("data"));
            cfg.bridge = "ppbench0".into();
            cfg.nft_table = "peapod_bench".into();
            let builtin = BuiltinNetwork::new(cfg).await.map_err(|e| e.to_string())?;
            let mut s = run(&builtin, &pods, "builtin").await.map_err(|e| e.to_string())?;
            print("builtin", &mut s);
            builtin.destroy().await.map_err(|e| e.to_string())?;

            if cni_bin.join("bridge").exists() {
                let conf_dir = data.join("net.d");
                std::fs::create_dir_all(&conf_dir).map_err(|e| e.to_string())?;
                let conf = serde_json::json!({
                    "cniVersion": "1.0.0", "name": "bench",
                    "plugins": [
                        {"type": "bridge", "bridge": "cnibench0", "isGateway": true, "ipMasq": true,
                         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.250.0/24"}]],
                                  "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data.join("host-local")}},
                        {"type": "portmap", "capabilities": {"portMappings": true}}
                    ]
                });
                std::fs::write(conf_dir.join("10-bench.conflist"), conf.to_string()).map_err(|e| e.to_string())?;
                let cni = CniNetwork::new(CniConfig::new(&conf_dir, &cni_bin, data.join("data")))
                    .map_err(|e| e.to_string())?;
                let mut s = run(&cni, &pods, "cni").await.map_err(|e| e.to_string())?;
                print("cni", &mut s);
            } else {
                println!("cni      skipped: no plugins in {}", cni_bin.display());
            }
            Ok(())
        })
    })
    .join()
    .map_err(|_| "bench thread panicked")?;
    drop(host);
    result.map_err(Into::into)
}
