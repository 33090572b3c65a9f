//! The runtime API used by the node agent. It keeps no state in memory: everything is
//! on disk under the data dir and in the per-pod supervisors, so a new `Runtime` (after
//! an agent restart) picks up where the old one left off.

mod attach;
mod container;
mod container_pty;
mod exec;
mod recover;
mod sandbox;
mod zygote;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context};

pub use attach::{AttachOptions, AttachSession};
pub use exec::{ExecOptions, ExecOutput, ExecSession};
pub use recover::RecoveryReport;
pub use sandbox::{Sandbox, SandboxState, SandboxStatus};

use crate::cgroups::{self, Layout};
use crate::config::RuntimeConfig;
use crate::migration_primer::MigrationPrimer;
use crate::paths::SandboxPaths;

pub type SandboxId = String;
pub type ContainerId = String;

/// Timeout of one control request to a supervisor (container creation forks and mounts).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Runtime {
    cfg: RuntimeConfig,
    layout: Layout,
    /// Which sandbox holds a container: remembered so that finding it does not scan
    /// every sandbox (the agent asks for each container's status on every sync). Only a
    /// cache: entries are checked against the disk and rebuilt by scanning.
    homes: Mutex<HashMap<ContainerId, SandboxId>>,
    zygote: zygote::Zygote,
    primer: MigrationPrimer,
}

impl Runtime {
    pub fn new(cfg: RuntimeConfig) -> anyhow::Result<Self> {
        if !cfg.helper_exe.is_file() {
            bail!("helper binary {} not found", cfg.helper_exe.display());
        }
        if cfg.cgroup_parent.is_empty() || cfg.cgroup_parent.contains("..") {
            bail!("invalid cgroup parent {:?}", cfg.cgroup_parent);
        }
        std::fs::create_dir_all(cfg.data_dir.join("sandboxes"))
            .with_context(|| format!("creating {}", cfg.data_dir.display()))?;
        let data_dir = std::fs::canonicalize(&cfg.data_dir)?;
        let zygote = zygote::Zygote::new(&cfg.helper_exe, &data_dir);
        Ok(Runtime {
            cfg: RuntimeConfig { data_dir, ..cfg },
            layout: cgroups::detect(),
            homes: Mutex::new(HashMap::new()),
            zygote,
            primer: MigrationPrimer::new(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.cfg.data_dir
    }

    pub fn cgroup_layout(&self) -> Layout {
        self.layout
    }

    fn sandboxes_dir(&self) -> PathBuf {
        self.cfg.data_dir.join("sandboxes")
    }

    fn sandbox_paths(&self, id: &str) -> anyhow::Result<SandboxPaths> {
        check_id(id)?;
        let p = SandboxPaths::new(&self.sandboxes_dir().join(id));
        if !p.config().exists() {
            bail!("sandbox {id} not found");
        }
        Ok(p)
    }

    fn sandbox_ids(&self) -> Vec<SandboxId> {
        std::fs::read_dir(self.sandboxes_dir())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The sandbox holding container `id`.
    fn locate(&self, id: &str) -> anyhow::Result<SandboxPaths> {
        check_id(id)?;
        let known = self.homes().get(id).cloned();
        if let Some(sid) = known {
            let p = SandboxPaths::new(&self.sandboxes_dir().join(&sid));
            if p.container(id).meta().exists() {
                return Ok(p);
            }
            self.homes().remove(id);
        }
        for sid in self.sandbox_ids() {
            let p = SandboxPaths::new(&self.sandboxes_dir().join(&sid));
            if p.container(id).meta().exists() {
                self.remember_home(id, &sid);
                return Ok(p);
            }
        }
        bail!("container {id} not found")
    }

    fn homes(&self) -> std::sync::MutexGuard<'_, HashMap<ContainerId, SandboxId>> {
        // The map holds plain strings: a panic elsewhere cannot leave it inconsistent.
        self.homes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember_home(&self, id: &str, sandbox_id: &str) {
        self.homes().insert(id.to_string(), sandbox_id.to_string());
    }

    fn forget_sandbox_homes(&self, sandbox_id: &str) {
        self.homes().retain(|_, sid| sid != sandbox_id);
    }

    /// cgroup path (relative) of a pod.
    fn pod_cgroup(&self, sandbox_id: &str) -> String {
        format!("{}/pod-{sandbox_id}", self.cfg.cgroup_parent)
    }
}

/// Ids are generated here (hex); anything else is refused before touching paths.
fn check_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("invalid id {id:?}");
    }
    Ok(())
}

fn new_id() -> String {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom fills the buffer we pass with its exact length.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n != buf.len() as isize {
        // Fall back to time and pid: ids only need to be unique on this node.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        buf = ((t.as_nanos() as u64) ^ ((std::process::id() as u64) << 32)).to_le_bytes();
    }
    hex::encode(buf)
}
