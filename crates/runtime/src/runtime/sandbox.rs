//! Pod sandboxes: files, /dev/shm, volumes, pod cgroup, the supervisor and its pause.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{new_id, Runtime, SandboxId, CALL_TIMEOUT};
use crate::cgroups;
use crate::config::SandboxConfig;
use crate::mounts;
use crate::paths::SandboxPaths;
use crate::protocol::{self, Request};
use crate::sandbox_files::{hosts_file, resolv_conf};
use crate::status::{read_json, write_json_atomic};
use crate::volumes;

/// What `run_sandbox` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sandbox {
    pub id: SandboxId,
    /// Network namespace to hand to the pod network; `None` with hostNetwork.
    pub netns_path: Option<PathBuf>,
    pub pause_pid: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SandboxState {
    Ready,
    NotReady,
}

/// Persistent record of a sandbox (`state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxStatus {
    pub id: SandboxId,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub state: SandboxState,
    pub pause_pid: i32,
    pub netns_path: Option<PathBuf>,
    pub cgroup: String,
    pub ips: Vec<String>,
    pub created_at: DateTime<Utc>,
}

fn validate(cfg: &SandboxConfig) -> anyhow::Result<()> {
    let safe = |s: &str| !s.is_empty() && !s.contains(['/', '\0']) && s != "." && s != "..";
    if !safe(&cfg.name) || !safe(&cfg.namespace) || !safe(&cfg.uid) {
        bail!("sandbox needs a name, namespace and uid without '/'");
    }
    if cfg.hostname.is_empty() || cfg.hostname.len() > 64 {
        bail!("invalid hostname {:?}", cfg.hostname);
    }
    let mut names = std::collections::HashSet::new();
    for v in &cfg.volumes {
        if !names.insert(&v.name) {
            bail!("duplicate volume {:?}", v.name);
        }
    }
    Ok(())
}

impl Runtime {
    /// Creates the pod sandbox: namespaces held by pause, /etc files, /dev/shm, volumes,
    /// the pod cgroup and the supervisor.
    pub fn run_sandbox(&self, cfg: &SandboxConfig) -> anyhow::Result<Sandbox> {
        validate(cfg)?;
        let id = new_id();
        let paths = SandboxPaths::new(&self.sandboxes_dir().join(&id));
        std::fs::create_dir_all(&paths.dir)?;
        match self.setup_sandbox(&id, &paths, cfg) {
            Ok(sb) => Ok(sb),
            Err(e) => {
                if let Err(ce) = self.teardown_sandbox(&id, &paths) {
                    tracing::warn!("cleanup of failed sandbox {id}: {ce:#}");
                }
                Err(e)
            }
        }
    }

    fn setup_sandbox(
        &self,
        id: &str,
        paths: &SandboxPaths,
        cfg: &SandboxConfig,
    ) -> anyhow::Result<Sandbox> {
        let t = std::time::Instant::now();
        write_json_atomic(&paths.config(), cfg)?;
        // The pod cgroup first, then priming (see MigrationPrimer): a primer write waiting out
        // its grace period holds the cgroup mutex, which a mkdir in cgroupfs needs too. The
        // grace period then passes while the files, supervisor and network are made.
        let cgroup = self.pod_cgroup(id);
        cgroups::create_pod(self.layout, &cgroup, &cfg.resources)?;
        let _primed = self.primer.hold();
        let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        std::fs::write(paths.hosts(), hosts_file(cfg, &[], &host_hosts))?;
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        std::fs::write(
            paths.resolv_conf(),
            resolv_conf(cfg.dns.as_ref(), &host_resolv),
        )?;
        let hostname = if cfg.host_network {
            nix::unistd::gethostname()?.to_string_lossy().to_string()
        } else {
            cfg.hostname.clone()
        };
        std::fs::write(paths.hostname(), format!("{hostname}\n"))?;
        if !cfg.host_ipc {
            mounts::mount_tmpfs(&paths.shm(), "mode=1777,size=67108864")?;
        }
        volumes::prepare(&paths.dir, &cfg.volumes)?;
        let files_done = t.elapsed();
        let pause_pid = self.spawn_supervisor(paths)?;
        self.move_pause_to_pod_cgroup(&cgroup, pause_pid);
        tracing::debug!(
            "sandbox {id}: files, volumes and cgroup in {files_done:?}, supervisor and pause in {:?}",
            t.elapsed() - files_done
        );
        let netns_path =
            (!cfg.host_network).then(|| PathBuf::from(format!("/proc/{pause_pid}/ns/net")));
        let status = SandboxStatus {
            id: id.to_string(),
            name: cfg.name.clone(),
            namespace: cfg.namespace.clone(),
            uid: cfg.uid.clone(),
            state: SandboxState::Ready,
            pause_pid,
            netns_path: netns_path.clone(),
            cgroup,
            ips: Vec::new(),
            created_at: Utc::now(),
        };
        write_json_atomic(&paths.state(), &status)?;
        Ok(Sandbox {
            id: id.to_string(),
            netns_path,
            pause_pid,
        })
    }

    /// Puts the pause process in the pod cgroup, as kubelet does, from a thread of its own:
    /// a task migration may wait for an RCU grace period, which the pod's start need not.
    fn move_pause_to_pod_cgroup(&self, cgroup: &str, pause_pid: i32) {
        let (layout, target) = (self.layout, cgroup.to_string());
        let moved = std::thread::Builder::new()
            .name("pause-cgroup".into())
            .spawn(move || {
                if let Err(e) = cgroups::add_process(layout, &target, pause_pid) {
                    tracing::warn!("moving pause {pause_pid} into {target}: {e:#}");
                }
            });
        if let Err(e) = moved {
            tracing::warn!("moving pause {pause_pid} into {cgroup}: {e}");
        }
    }

    /// Has the zygote fork the sandbox's supervisor; returns the pause pid once ready.
    fn spawn_supervisor(&self, paths: &SandboxPaths) -> anyhow::Result<i32> {
        self.zygote.launch(&paths.dir)
    }

    pub fn sandbox_status(&self, id: &str) -> anyhow::Result<SandboxStatus> {
        let paths = self.sandbox_paths(id)?;
        let st: SandboxStatus = read_json(&paths.state())?;
        Ok(self.with_liveness(&paths, st))
    }

    /// A recorded Ready sandbox whose pause is gone is NotReady (asks its supervisor).
    fn with_liveness(&self, paths: &SandboxPaths, mut st: SandboxStatus) -> SandboxStatus {
        if st.state == SandboxState::Ready && !self.pause_alive(paths) {
            st.state = SandboxState::NotReady;
        }
        st
    }

    /// The sandboxes of one pod.
    pub fn pod_sandboxes(&self, pod_uid: &str) -> Vec<SandboxStatus> {
        self.sandboxes_where(|st| st.uid == pod_uid)
    }

    /// The sandboxes whose recorded status `keep` accepts. Only those are asked whether they
    /// live: a pod starting on a busy node must not wait for every other pod's supervisor.
    pub fn sandboxes_where(&self, keep: impl Fn(&SandboxStatus) -> bool) -> Vec<SandboxStatus> {
        self.sandbox_ids()
            .iter()
            .filter_map(|id| {
                let paths = self.sandbox_paths(id).ok()?;
                let st: SandboxStatus = read_json(&paths.state()).ok()?;
                keep(&st).then(|| self.with_liveness(&paths, st))
            })
            .collect()
    }

    pub fn list_sandboxes(&self) -> Vec<SandboxStatus> {
        self.sandbox_ids()
            .iter()
            .filter_map(|id| self.sandbox_status(id).ok())
            .collect()
    }

    /// The supervisor answers and still holds a live pause process.
    fn pause_alive(&self, paths: &SandboxPaths) -> bool {
        paths.socket().exists()
            && protocol::call(&paths.socket(), &Request::Ping, Duration::from_secs(2))
                .is_ok_and(|r| r.pause_pid.is_some())
    }

    pub(super) fn supervisor_alive(&self, paths: &SandboxPaths) -> bool {
        paths.socket().exists()
            && protocol::call(&paths.socket(), &Request::Ping, Duration::from_secs(2)).is_ok()
    }

    /// Records the pod IPs (from the network hook) and rewrites `/etc/hosts` in place, so
    /// running containers see the change through their bind mount.
    pub fn set_sandbox_ips(&self, id: &str, ips: &[String]) -> anyhow::Result<()> {
        let paths = self.sandbox_paths(id)?;
        let cfg: SandboxConfig = read_json(&paths.config())?;
        let mut st: SandboxStatus = read_json(&paths.state())?;
        let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        std::fs::write(paths.hosts(), hosts_file(&cfg, ips, &host_hosts))?;
        st.ips = ips.to_vec();
        write_json_atomic(&paths.state(), &st)
    }

    /// Stops every container (signal, then SIGKILL after `grace`) and the pause process.
    /// Container statuses stay readable until `remove_sandbox`.
    pub fn stop_sandbox(&self, id: &str, grace: Duration) -> anyhow::Result<()> {
        let paths = self.sandbox_paths(id)?;
        for c in self.list_containers(Some(id)) {
            if c.state == crate::status::ContainerState::Running {
                self.stop_container(&c.id, grace)?;
            }
        }
        if self.supervisor_alive(&paths) {
            protocol::call(&paths.socket(), &Request::Shutdown, CALL_TIMEOUT)?;
        }
        let mut st: SandboxStatus = read_json(&paths.state())?;
        st.state = SandboxState::NotReady;
        write_json_atomic(&paths.state(), &st)
    }

    /// Removes the sandbox and everything it owns: processes, mounts, cgroups, files.
    pub fn remove_sandbox(&self, id: &str) -> anyhow::Result<()> {
        let paths = self.sandbox_paths(id)?;
        self.teardown_sandbox(id, &paths)
    }

    pub(super) fn teardown_sandbox(&self, id: &str, paths: &SandboxPaths) -> anyhow::Result<()> {
        self.forget_sandbox_homes(id);
        if paths.socket().exists() {
            if let Err(e) = protocol::call(&paths.socket(), &Request::Shutdown, CALL_TIMEOUT) {
                tracing::debug!("supervisor of {id} did not answer shutdown: {e:#}");
            }
        }
        // Whatever survived a dead supervisor: pause, and containers via their cgroups.
        if let Ok(st) = read_json::<SandboxStatus>(&paths.state()) {
            kill_if_pause(st.pause_pid);
        }
        cgroups::remove_tree(self.layout, &self.pod_cgroup(id))?;
        mounts::unmount_all_under(&paths.dir)?;
        std::fs::remove_dir_all(&paths.dir)
            .with_context(|| format!("removing {}", paths.dir.display()))
    }
}

/// Kills `pid` only if it still is a pause process (pids get reused).
fn kill_if_pause(pid: i32) {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() == "pause" {
        // SAFETY: kill(2) on a pid verified to be a pause process.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}
