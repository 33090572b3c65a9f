//! Pod start-up benchmark for peapod's runtime: sandbox + 1 (or 2) busybox containers from
//! nothing to running, p50/p99 over N runs; RSS/PSS per running pod (pause + supervisor);
//! and `crun run -d` of the same rootfs for comparison when crun is installed.
//!
//! Build and run (as root): see bench/runtime/README.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use peapod_runtime::{ContainerConfig, RootfsSource, Runtime, RuntimeConfig, SandboxConfig};

fn busybox_rootfs(root: &Path) -> anyhow::Result<()> {
    for d in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))?;
    let st = Command::new("chroot")
        .arg(root)
        .args(["/bin/busybox", "--install", "-s", "/bin"])
        .status()?;
    anyhow::ensure!(st.success(), "busybox --install failed");
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<28} n={:<4} p50={:>7.2} ms  p99={:>7.2} ms  min={:>7.2} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3
    );
}

fn sandbox(i: usize) -> SandboxConfig {
    SandboxConfig {
        name: format!("bench{i}"),
        namespace: "bench".into(),
        uid: format!("uid{i}"),
        hostname: format!("bench{i}"),
        ..Default::default()
    }
}

fn run_pods(
    rt: &Runtime,
    rootfs: &Path,
    runs: usize,
    containers: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(runs);
    // Time spent in each phase, summed over runs: sandbox, create, start.
    let mut phases = [Duration::ZERO; 3];
    for i in 0..runs {
        let cfg = sandbox(i);
        let t0 = Instant::now();
        let sb = rt.run_sandbox(&cfg)?;
        phases[0] += t0.elapsed();
        for n in 0..containers {
            let mut c =
                ContainerConfig::new(format!("c{n}"), RootfsSource::Dir(rootfs.to_path_buf()));
            c.command = vec!["sleep".into(), "1000".into()];
            let t = Instant::now();
            let id = rt.create_container(&sb.id, &c)?;
            phases[1] += t.elapsed();
            let t = Instant::now();
            rt.start_container(&id)?;
            phases[2] += t.elapsed();
        }
        samples.push(t0.elapsed());
        rt.remove_sandbox(&sb.id)?;
        rt.remove_pod_logs(&cfg.namespace, &cfg.name, &cfg.uid)?;
    }
    if runs > 0 {
        let ms = |d: Duration| d.as_secs_f64() * 1e3 / runs as f64;
        println!(
            "  mean phases: sandbox {:.2} ms, create {:.2} ms, start {:.2} ms",
            ms(phases[0]),
            ms(phases[1]),
            ms(phases[2])
        );
    }
    Ok(samples)
}

fn status_kb(pid: i32, file: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn supervisor_pids(data_dir: &Path) -> Vec<i32> {
    let needle = data_dir.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            // Supervisors are forked by the zygote (same command line), named
            // `pod-supervisor`, with stderr in their sandbox directory.
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let log = std::fs::read_link(format!("/proc/{pid}/fd/2")).unwrap_or_default();
            comm.trim() == "pod-supervisor" && log.to_string_lossy().contains(&needle)
        })
        .collect()
}

fn memory_per_pod(rt: &Runtime, rootfs: &Path, pods: usize) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    let mut pauses = Vec::new();
    for i in 0..pods {
        let sb = rt.run_sandbox(&sandbox(1000 + i))?;
        let mut c = ContainerConfig::new("c0", RootfsSource::Dir(rootfs.to_path_buf()));
        c.command = vec!["sleep".into(), "1000".into()];
        let id = rt.create_container(&sb.id, &c)?;
        rt.start_container(&id)?;
        pauses.push(sb.pause_pid);
        ids.push(sb.id);
    }
    std::thread::sleep(Duration::from_millis(300));
    let sups = supervisor_pids(rt.data_dir());
    let sum = |pids: &[i32], file: &str, key: &str| {
        pids.iter().map(|p| status_kb(*p, file, key)).sum::<u64>()
    };
    let (sup_rss, pause_rss) = (
        sum(&sups, "status", "VmRSS:"),
        sum(&pauses, "status", "VmRSS:"),
    );
    let (sup_pss, pause_pss) = (
        sum(&sups, "smaps_rollup", "Pss:"),
        sum(&pauses, "smaps_rollup", "Pss:"),
    );
    let n = pods as u64;
    println!(
        "per pod ({pods} pods, {} supervisors): supervisor RSS {} KiB PSS {} KiB; pause RSS {} KiB PSS {} KiB; total RSS {} KiB PSS {} KiB",
        sups.len(),
        sup_rss / n,
        sup_pss / n,
        pause_rss / n,
        pause_pss / n,
        (sup_rss + pause_rss) / n,
        (sup_pss + pause_pss) / n
    );
    for (i, id) in ids.iter().enumerate() {
        rt.remove_sandbox(id)?;
        rt.remove_pod_logs(
            "bench",
            &format!("bench{}", 1000 + i),
            &format!("uid{}", 1000 + i),
        )?;
    }
    Ok(())
}

/// crun refuses the hybrid cgroup layout here, so it runs without cgroups
/// (`--cgroup-manager=disabled`): a lower bound for an OCI runtime start.
fn crun_runs(work: &Path, rootfs: &Path, runs: usize) -> anyhow::Result<Vec<Duration>> {
    let bundle = work.join("crun-bundle");
    std::fs::create_dir_all(&bundle)?;
    let st = Command::new("crun")
        .arg("spec")
        .current_dir(&bundle)
        .status()?;
    anyhow::ensure!(st.success(), "crun spec failed");
    let path = bundle.join("config.json");
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    spec["root"]["path"] = rootfs.to_string_lossy().into();
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["sleep", "1000"]);
    std::fs::write(&path, serde_json::to_vec(&spec)?)?;
    let mut samples = Vec::new();
    for i in 0..runs {
        let id = format!("peapod-bench-{}-{i}", std::process::id());
        let t0 = Instant::now();
        let st = Command::new("crun")
            .args(["--cgroup-manager=disabled", "run", "-d", "--bundle"])
            .arg(&bundle)
            .arg(&id)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()?;
        samples.push(t0.elapsed());
        let _ = Command::new("crun").args(["delete", "-f", &id]).status();
        anyhow::ensure!(st.success(), "crun run failed");
    }
    Ok(samples)
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let exe = std::env::current_exe()?;
    // examples live in target/<profile>/examples; the helper binary one level up.
    let helper: PathBuf = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("peapod-runtime-helper"))
        .ok_or_else(|| anyhow::anyhow!("cannot locate helper"))?;
    let work = tempfile::tempdir()?;
    let rootfs = work.path().join("rootfs");
    busybox_rootfs(&rootfs)?;
    let mut cfg = RuntimeConfig::new(work.path().join("data"), helper);
    cfg.cgroup_parent = format!("peapod-bench-{}", std::process::id());
    let rt = Runtime::new(cfg.clone())?;
    run_pods(&rt, &rootfs, 5, 1)?; // warm-up
    report("sandbox only", run_pods(&rt, &rootfs, runs, 0)?);
    report("pod + 1 container", run_pods(&rt, &rootfs, runs, 1)?);
    report("pod + 2 containers", run_pods(&rt, &rootfs, runs, 2)?);
    memory_per_pod(&rt, &rootfs, 10)?;
    if Command::new("crun").arg("--version").output().is_ok() {
        match crun_runs(work.path(), &rootfs, runs) {
            Ok(s) => report("crun run -d (no cgroups)", s),
            Err(e) => println!("crun comparison failed: {e:#}"),
        }
    } else {
        println!("crun not installed: comparison skipped");
    }
    for ctrl in std::fs::read_dir("/sys/fs/cgroup")?.filter_map(|e| e.ok()) {
        let _ = std::fs::remove_dir(ctrl.path().join(&cfg.cgroup_parent));
    }
    let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(&cfg.cgroup_parent));
    Ok(())
}
