//! Containers: rootfs, volumes and OCI spec on the runtime side; processes through the
//! pod's supervisor.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;

use super::sandbox::SandboxStatus;
use super::{new_id, ContainerId, Runtime, CALL_TIMEOUT};
use crate::config::{ContainerConfig, RootfsSource, SandboxConfig, Volume};
use crate::errors::ContainerConfigError;
use crate::logs::{container_log_path, pod_log_dir};
use crate::mounts;
use crate::paths::{ContainerPaths, SandboxPaths};
use crate::protocol::{self, Request};
use crate::spec::oci::{self, BindMount, NsMode, SpecInput};
use crate::spec::process::resolve_process;
use crate::status::{read_json, write_json_atomic, ContainerMeta, ContainerState, ContainerStatus};
use crate::volumes;

const DEFAULT_TERMINATION_PATH: &str = "/dev/termination-log";

/// Signal number from an image STOPSIGNAL (`SIGQUIT`, `QUIT` or `3`).
pub fn parse_signal(s: &str) -> anyhow::Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        bail!("invalid signal number {n}");
    }
    let name = s.to_ascii_uppercase();
    let name = if name.starts_with("SIG") {
        name
    } else {
        format!("SIG{name}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| anyhow::anyhow!("unknown signal {s:?}"))
}

impl Runtime {
    /// Creates (but does not start) a container in a sandbox.
    pub fn create_container(
        &self,
        sandbox_id: &str,
        cfg: &ContainerConfig,
    ) -> anyhow::Result<ContainerId> {
        // The container's init moves into its cgroups (see MigrationPrimer).
        let _primed = self.primer.hold();
        let sb = self.sandbox_paths(sandbox_id)?;
        if cfg.name.is_empty()
            || cfg.name.contains(['/', '\0'])
            || cfg.name == "."
            || cfg.name == ".."
        {
            bail!("invalid container name {:?}", cfg.name);
        }
        if !self.supervisor_alive(&sb) {
            bail!("sandbox {sandbox_id} is not running");
        }
        let id = new_id();
        let cp = sb.container(&id);
        std::fs::create_dir_all(&cp.dir)?;
        let t = std::time::Instant::now();
        let result = self
            .prepare_container(sandbox_id, &sb, &cp, &id, cfg)
            .and_then(|_| {
                let prepared = t.elapsed();
                let r = protocol::call(
                    &sb.socket(),
                    &Request::Create { id: id.clone() },
                    CALL_TIMEOUT,
                );
                tracing::debug!(
                    "container {id}: rootfs and spec in {prepared:?}, created by the supervisor in {:?}",
                    t.elapsed() - prepared
                );
                r
            });
        match result {
            Ok(_) => {
                self.remember_home(&id, sandbox_id);
                Ok(id)
            }
            Err(e) => {
                let _ = mounts::unmount_all_under(&cp.dir);
                let _ = std::fs::remove_dir_all(&cp.dir);
                Err(e)
            }
        }
    }

    fn prepare_container(
        &self,
        sandbox_id: &str,
        sb: &SandboxPaths,
        cp: &ContainerPaths,
        id: &str,
        cfg: &ContainerConfig,
    ) -> anyhow::Result<()> {
        let scfg: SandboxConfig = read_json(&sb.config())?;
        let sst: SandboxStatus = read_json(&sb.state())?;
        let (rootfs, overlay) = match &cfg.rootfs {
            RootfsSource::Dir(d) => {
                if !d.is_dir() {
                    bail!("rootfs {} does not exist", d.display());
                }
                (
                    std::fs::canonicalize(d).with_context(|| format!("rootfs {}", d.display()))?,
                    None,
                )
            }
            RootfsSource::Overlay { lower_dirs } => {
                mounts::mount_overlay(lower_dirs, &cp.upper(), &cp.work(), &cp.rootfs())?;
                (cp.rootfs(), Some(cp.rootfs()))
            }
        };
        let hostname = std::fs::read_to_string(sb.hostname())
            .unwrap_or_default()
            .trim()
            .to_string();
        let process = resolve_process(cfg, &rootfs, &hostname)?;
        let stop_signal = match &cfg.image_config.stop_signal {
            Some(s) if !s.is_empty() => parse_signal(s)?,
            _ => libc::SIGTERM,
        };

        let term_path = cfg
            .termination_message_path
            .clone()
            .unwrap_or_else(|| DEFAULT_TERMINATION_PATH.to_string());
        if !term_path.starts_with('/') {
            bail!("terminationMessagePath {term_path:?} must be absolute");
        }
        std::fs::write(cp.termination_log(), b"")?;
        std::fs::set_permissions(cp.termination_log(), std::fs::Permissions::from_mode(0o666))?;

        let mut binds = self.volume_binds(sb, &scfg.volumes, cfg)?;
        let shm = if scfg.host_ipc {
            PathBuf::from("/dev/shm")
        } else {
            sb.shm()
        };
        // The sandbox's managed files, each unless the container mounts a volume of its own
        // there (as kubelet and containerd leave such a container's file alone).
        let managed = [
            (sb.hosts(), "/etc/hosts"),
            (sb.resolv_conf(), "/etc/resolv.conf"),
            (sb.hostname(), "/etc/hostname"),
            (shm, "/dev/shm"),
        ];
        for (source, destination) in managed {
            let user_mounted = binds
                .iter()
                .any(|b| std::path::Path::new(&b.destination) == std::path::Path::new(destination));
            if !user_mounted {
                binds.push(BindMount {
                    source,
                    destination: destination.into(),
                    read_only: false,
                });
            }
        }
        binds.push(BindMount {
            source: cp.termination_log(),
            destination: term_path,
            read_only: false,
        });

        let ns = |kind: &str| PathBuf::from(format!("/proc/{}/ns/{kind}", sst.pause_pid));
        let pid_ns = if scfg.host_pid {
            NsMode::Host
        } else if scfg.share_pid {
            NsMode::Join(ns("pid"))
        } else {
            NsMode::New
        };
        let (net_ns, uts_ns) = if scfg.host_network {
            (NsMode::Host, NsMode::Host)
        } else {
            (NsMode::Join(ns("net")), NsMode::Join(ns("uts")))
        };
        let ipc_ns = if scfg.host_ipc {
            NsMode::Host
        } else {
            NsMode::Join(ns("ipc"))
        };
        let cgroup_rel = format!("{}/{id}", sst.cgroup);
        let spec = oci::build(&SpecInput {
            process,
            rootfs: rootfs.clone(),
            read_only_rootfs: cfg.read_only_rootfs,
            privileged: cfg.privileged,
            no_new_privs: cfg.no_new_privs,
            capabilities: cfg.capabilities.clone(),
            pid_ns,
            net_ns,
            ipc_ns,
            uts_ns,
            cgroups_path: format!("/{cgroup_rel}"),
            resources: cfg.resources.clone(),
            binds,
        })?;
        std::fs::create_dir_all(cp.bundle())?;
        spec.save(cp.bundle().join("config.json"))
            .context("writing config.json")?;

        let log_dir = pod_log_dir(&self.cfg.data_dir, &scfg.namespace, &scfg.name, &scfg.uid);
        let meta = ContainerMeta {
            id: id.to_string(),
            name: cfg.name.clone(),
            sandbox_id: sandbox_id.to_string(),
            log_path: container_log_path(&log_dir, &cfg.name, cfg.restart_count),
            tty: cfg.tty,
            stdin: cfg.stdin,
            stdin_once: cfg.stdin_once,
            cgroup_rel,
            termination_log: cp.termination_log(),
            termination_policy: cfg.termination_message_policy,
            restart_count: cfg.restart_count,
            stop_signal,
            overlay_mount: overlay,
            created_at: Utc::now(),
        };
        write_json_atomic(&cp.meta(), &meta)?;
        write_json_atomic(&cp.dir.join("config.json"), cfg)
    }

    /// Host sources for the container's volume mounts (subPaths resolved safely).
    fn volume_binds(
        &self,
        sb: &SandboxPaths,
        vols: &[Volume],
        cfg: &ContainerConfig,
    ) -> anyhow::Result<Vec<BindMount>> {
        let by_name: HashMap<&str, &Volume> = vols.iter().map(|v| (v.name.as_str(), v)).collect();
        let mut binds = Vec::new();
        let config_error = |msg: String| anyhow::Error::new(ContainerConfigError(msg));
        for m in &cfg.mounts {
            let v = by_name.get(m.volume.as_str()).ok_or_else(|| {
                config_error(format!(
                    "cannot find volume {:?} to mount into container {:?}",
                    m.volume, cfg.name
                ))
            })?;
            if !m.container_path.starts_with('/') {
                bail!("mountPath {:?} must be absolute", m.container_path);
            }
            let mut source = volumes::host_path(&sb.dir, v)?;
            if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                source = volumes::resolve_sub_path(&source, sub).map_err(|e| {
                    config_error(format!(
                        "failed to prepare subPath for volumeMount {:?} of container {:?}: {e:#}",
                        m.volume, cfg.name
                    ))
                })?;
            }
            binds.push(BindMount {
                source,
                destination: m.container_path.clone(),
                read_only: m.read_only,
            });
        }
        Ok(binds)
    }

    pub fn start_container(&self, id: &str) -> anyhow::Result<()> {
        let sb = self.locate(id)?;
        protocol::call(
            &sb.socket(),
            &Request::Start { id: id.to_string() },
            CALL_TIMEOUT,
        )?;
        Ok(())
    }

    /// Sends the image's STOPSIGNAL (SIGTERM by default), SIGKILL after `grace`, and waits
    /// for the container to exit.
    pub fn stop_container(&self, id: &str, grace: Duration) -> anyhow::Result<()> {
        let sb = self.locate(id)?;
        let meta: ContainerMeta = read_json(&sb.container(id).meta())?;
        let st = self.container_status(id)?;
        if !matches!(st.state, ContainerState::Running | ContainerState::Created) {
            return Ok(());
        }
        let req = Request::Stop {
            id: id.to_string(),
            signal: meta.stop_signal,
            grace_ms: grace.as_millis() as u64,
        };
        protocol::call(&sb.socket(), &req, CALL_TIMEOUT)?;
        let deadline = Instant::now() + grace + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.container_status(id)?.state == ContainerState::Exited {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        bail!("container {id} did not stop")
    }

    /// Removes a container (killing it if needed); its log file stays.
    pub fn remove_container(&self, id: &str) -> anyhow::Result<()> {
        let sb = self.locate(id)?;
        let cp = sb.container(id);
        if self.supervisor_alive(&sb) {
            protocol::call(
                &sb.socket(),
                &Request::Remove { id: id.to_string() },
                CALL_TIMEOUT,
            )?;
        }
        mounts::unmount_all_under(&cp.dir)?;
        std::fs::remove_dir_all(&cp.dir)
            .with_context(|| format!("removing {}", cp.dir.display()))?;
        self.homes().remove(id);
        Ok(())
    }

    pub fn container_status(&self, id: &str) -> anyhow::Result<ContainerStatus> {
        let sb = self.locate(id)?;
        let cp = sb.container(id);
        let mut st: ContainerStatus = read_json(&cp.status())?;
        // A container whose supervisor died cannot be known to still run.
        if matches!(st.state, ContainerState::Running | ContainerState::Created)
            && !st
                .pid
                .is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        {
            st.state = ContainerState::Unknown;
        }
        Ok(st)
    }

    /// Containers of one sandbox, or of all.
    pub fn list_containers(&self, sandbox_id: Option<&str>) -> Vec<ContainerStatus> {
        let ids: Vec<String> = match sandbox_id {
            Some(s) => vec![s.to_string()],
            None => self.sandbox_ids(),
        };
        let mut out = Vec::new();
        for sid in ids {
            let sb = SandboxPaths::new(&self.sandboxes_dir().join(&sid));
            let Ok(rd) = std::fs::read_dir(sb.containers()) else {
                continue;
            };
            for e in rd.filter_map(|e| e.ok()) {
                if let Some(cid) = e.file_name().to_str() {
                    if let Ok(st) = self.container_status(cid) {
                        out.push(st);
                    }
                }
            }
        }
        out
    }

    /// Makes the supervisor reopen the container's log file (after rotation).
    pub fn reopen_logs(&self, id: &str) -> anyhow::Result<()> {
        let sb = self.locate(id)?;
        protocol::call(
            &sb.socket(),
            &Request::ReopenLog { id: id.to_string() },
            CALL_TIMEOUT,
        )?;
        Ok(())
    }

    /// Log file of a container instance.
    pub fn container_log_path(&self, id: &str) -> anyhow::Result<PathBuf> {
        let sb = self.locate(id)?;
        let meta: ContainerMeta = read_json(&sb.container(id).meta())?;
        Ok(meta.log_path)
    }

    /// `DIR/pods/<ns>_<pod>_<uid>`.
    pub fn pod_log_dir(&self, namespace: &str, name: &str, uid: &str) -> PathBuf {
        pod_log_dir(&self.cfg.data_dir, namespace, name, uid)
    }

    /// Deletes a pod's logs (when the pod is gone from the API).
    pub fn remove_pod_logs(&self, namespace: &str, name: &str, uid: &str) -> anyhow::Result<()> {
        for part in [namespace, name, uid] {
            if part.is_empty() || part.contains('/') || part == ".." {
                bail!("invalid pod identity {part:?}");
            }
        }
        let dir = self.pod_log_dir(namespace, name, uid);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn stop_signals_parse() {
        assert_eq!(parse_signal("SIGQUIT").unwrap(), libc::SIGQUIT);
        assert_eq!(parse_signal("term").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
    }
}
