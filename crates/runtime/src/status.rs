//! Container status and metadata records shared by the runtime and the supervisor
//! through the container directory (so status survives both agent and supervisor).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::TerminationMessagePolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
    Unknown,
}

/// What `container_status` reports (CRI ContainerStatus, narrowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerStatus {
    pub id: String,
    pub name: String,
    pub sandbox_id: String,
    pub state: ContainerState,
    /// Host pid of the container's main process while it runs.
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `Completed`, `Error`, `OOMKilled`, or a start failure reason.
    pub reason: Option<String>,
    /// Termination message (or log tail), or an error message.
    pub message: Option<String>,
    pub log_path: PathBuf,
    pub restart_count: u32,
}

/// What the supervisor needs to run a container, written by the runtime at creation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerMeta {
    pub id: String,
    pub name: String,
    pub sandbox_id: String,
    pub log_path: PathBuf,
    pub tty: bool,
    pub stdin: bool,
    pub stdin_once: bool,
    /// cgroup path of the container relative to the cgroup root(s).
    pub cgroup_rel: String,
    /// Host file bound at the termination message path.
    pub termination_log: PathBuf,
    pub termination_policy: TerminationMessagePolicy,
    pub restart_count: u32,
    /// Signal number sent first by `stop_container`.
    pub stop_signal: i32,
    /// overlay mount point to unmount on removal.
    pub overlay_mount: Option<PathBuf>,
    pub created_at: DateTime<Utc>,
}

pub const STATUS_FILE: &str = "status.json";
pub const META_FILE: &str = "meta.json";

/// Writes `value` as JSON via a temp file and rename, so readers never see half a file.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&data).with_context(|| format!("parsing {}", path.display()))
}
