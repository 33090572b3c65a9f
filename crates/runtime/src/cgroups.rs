//! Pod-level cgroups (the parent of the containers' cgroups, which libcontainer manages),
//! on cgroup v1 (including the hybrid layout) and v2.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::Resources;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
/// v1 controllers that receive pod limits.
const V1_LIMITED: [&str; 3] = ["cpu", "memory", "pids"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Per-controller hierarchies (possibly with an empty cgroup2 at `unified`).
    V1,
    V2,
}

pub fn detect() -> Layout {
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let path = c"/sys/fs/cgroup";
    // SAFETY: valid NUL-terminated path and a zeroed out-struct.
    let rc = unsafe { libc::statfs(path.as_ptr(), &mut st) };
    if rc == 0 && st.f_type as i64 == CGROUP2_SUPER_MAGIC {
        Layout::V2
    } else {
        Layout::V1
    }
}

/// cpu.shares from a request in millicores (kubelet's formula, minimum 2).
pub fn cpu_shares(millis: u64) -> u64 {
    (millis * 1024 / 1000).max(2)
}

/// CFS quota (µs per 100 ms period) from a limit in millicores (minimum 1 ms).
pub fn cpu_quota(millis: u64) -> i64 {
    ((millis * 100_000 / 1000).max(1000)) as i64
}

pub const CPU_PERIOD: u64 = 100_000;

fn cpu_weight(shares: u64) -> u64 {
    1 + (shares.saturating_sub(2)) * 9999 / 262_142
}

/// Hierarchies a cgroup path exists in: each v1 controller mount, or the v2 root.
fn hierarchies(layout: Layout) -> Vec<PathBuf> {
    match layout {
        Layout::V2 => vec![PathBuf::from(CGROUP_ROOT)],
        Layout::V1 => fs::read_dir(CGROUP_ROOT)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.join("cgroup.procs").exists())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn write(path: &Path, value: &str) -> anyhow::Result<()> {
    fs::write(path, value).with_context(|| format!("writing {value:?} to {}", path.display()))
}

/// Creates the pod cgroup `rel` and applies pod-level limits.
pub fn create_pod(layout: Layout, rel: &str, res: &Resources) -> anyhow::Result<()> {
    match layout {
        Layout::V1 => {
            for ctrl in V1_LIMITED {
                let dir = Path::new(CGROUP_ROOT).join(ctrl).join(rel);
                fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let root = Path::new(CGROUP_ROOT);
            if let Some(s) = res.cpu_request_millis {
                write(
                    &root.join("cpu").join(rel).join("cpu.shares"),
                    &cpu_shares(s).to_string(),
                )?;
            }
            if let Some(l) = res.cpu_limit_millis {
                let dir = root.join("cpu").join(rel);
                write(&dir.join("cpu.cfs_period_us"), &CPU_PERIOD.to_string())?;
                write(&dir.join("cpu.cfs_quota_us"), &cpu_quota(l).to_string())?;
            }
            if let Some(m) = res.memory_limit_bytes {
                write(
                    &root.join("memory").join(rel).join("memory.limit_in_bytes"),
                    &m.to_string(),
                )?;
            }
            if let Some(p) = res.pids_limit {
                write(
                    &root.join("pids").join(rel).join("pids.max"),
                    &p.to_string(),
                )?;
            }
        }
        Layout::V2 => {
            let dir = Path::new(CGROUP_ROOT).join(rel);
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // Controllers must be enabled from the root down to the pod's parent.
            let mut cur = PathBuf::from(CGROUP_ROOT);
            for comp in Path::new(rel).components() {
                let _ = fs::write(cur.join("cgroup.subtree_control"), "+cpu +memory +pids");
                cur = cur.join(comp);
            }
            let _ = fs::write(dir.join("cgroup.subtree_control"), "+cpu +memory +pids");
            if let Some(s) = res.cpu_request_millis {
                write(
                    &dir.join("cpu.weight"),
                    &cpu_weight(cpu_shares(s)).to_string(),
                )?;
            }
            if let Some(l) = res.cpu_limit_millis {
                write(
                    &dir.join("cpu.max"),
                    &format!("{} {CPU_PERIOD}", cpu_quota(l)),
                )?;
            }
            if let Some(m) = res.memory_limit_bytes {
                write(&dir.join("memory.max"), &m.to_string())?;
            }
            if let Some(p) = res.pids_limit {
                write(&dir.join("pids.max"), &p.to_string())?;
            }
        }
    }
    Ok(())
}

/// Moves process `pid` into the pod cgroup `rel` (the hierarchies `create_pod` made); on v2
/// into a leaf `pause` below it, as a cgroup that hands controllers down holds no processes.
pub fn add_process(layout: Layout, rel: &str, pid: i32) -> anyhow::Result<()> {
    let dirs: Vec<PathBuf> = match layout {
        Layout::V1 => V1_LIMITED
            .iter()
            .map(|c| Path::new(CGROUP_ROOT).join(c).join(rel))
            .collect(),
        Layout::V2 => {
            let leaf = Path::new(CGROUP_ROOT).join(rel).join("pause");
            fs::create_dir_all(&leaf).with_context(|| format!("creating {}", leaf.display()))?;
            vec![leaf]
        }
    };
    for dir in dirs {
        write(&dir.join("cgroup.procs"), &pid.to_string())?;
    }
    Ok(())
}

/// Kills whatever is left under `rel` and removes its cgroup directories bottom-up in
/// every hierarchy.
pub fn remove_tree(layout: Layout, rel: &str) -> anyhow::Result<()> {
    let mut last_err = None;
    for h in hierarchies(layout) {
        let dir = h.join(rel);
        if dir.is_dir() {
            if let Err(e) = remove_dir_tree(&dir) {
                last_err = Some(e);
            }
        }
    }
    match last_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn remove_dir_tree(dir: &Path) -> anyhow::Result<()> {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.filter_map(|e| e.ok()) {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_dir_tree(&e.path())?;
            }
        }
    }
    // A cgroup can only be removed once empty; processes may take a moment to die.
    for attempt in 0..100 {
        for pid in read_procs(&dir.join("cgroup.procs")) {
            // SAFETY: plain kill(2) on a pid read from the cgroup.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if attempt == 99 => {
                return Err(e).with_context(|| format!("removing {}", dir.display()))
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    Ok(())
}

fn read_procs(path: &Path) -> Vec<i32> {
    fs::read_to_string(path)
        .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Processes of the cgroup `rel` (a container cgroup).
pub fn procs(layout: Layout, rel: &str) -> Vec<i32> {
    let dir = match layout {
        Layout::V1 => Path::new(CGROUP_ROOT).join("pids").join(rel),
        Layout::V2 => Path::new(CGROUP_ROOT).join(rel),
    };
    read_procs(&dir.join("cgroup.procs"))
}

/// How many times the kernel's OOM killer fired in the cgroup `rel`.
pub fn oom_kills(layout: Layout, rel: &str) -> u64 {
    let file = match layout {
        Layout::V1 => Path::new(CGROUP_ROOT)
            .join("memory")
            .join(rel)
            .join("memory.oom_control"),
        Layout::V2 => Path::new(CGROUP_ROOT).join(rel).join("memory.events"),
    };
    fs::read_to_string(file)
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("oom_kill ")
                    .and_then(|v| v.trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// Path of a controller file for a cgroup, for tests and diagnostics.
pub fn file_path(layout: Layout, controller: &str, rel: &str, file: &str) -> PathBuf {
    match layout {
        Layout::V1 => Path::new(CGROUP_ROOT).join(controller).join(rel).join(file),
        Layout::V2 => Path::new(CGROUP_ROOT).join(rel).join(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_conversions_match_kubelet() {
        assert_eq!(cpu_shares(100), 102);
        assert_eq!(cpu_shares(1), 2);
        assert_eq!(cpu_quota(250), 25_000);
        assert_eq!(cpu_quota(1), 1000);
        assert_eq!(cpu_weight(2), 1);
        assert_eq!(cpu_weight(262_144), 10_000);
    }
}
