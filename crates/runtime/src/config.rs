//! Public configuration types of the runtime: what the node agent asks for.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::image::ImageConfig;

/// Where the runtime keeps its state and which binary implements the helper modes.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Root of all runtime state (`DIR/sandboxes`, `DIR/pods` for logs...).
    pub data_dir: PathBuf,
    /// Binary that implements `__zygote` (the peapod binary, or a test helper).
    pub helper_exe: PathBuf,
    /// cgroup parent (relative to the cgroup root) under which pod cgroups are created.
    pub cgroup_parent: String,
}

impl RuntimeConfig {
    pub fn new(data_dir: impl Into<PathBuf>, helper_exe: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            data_dir: data_dir.into(),
            helper_exe: helper_exe.into(),
            cgroup_parent: "peapod".to_string(),
        }
    }
}

/// One `hostAliases` entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HostAlias {
    pub ip: String,
    pub hostnames: Vec<String>,
}

/// Pod DNS settings already resolved by the agent (dnsPolicy applied).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DnsConfig {
    /// When all three are empty the host's `/etc/resolv.conf` is copied.
    pub nameservers: Vec<String>,
    pub searches: Vec<String>,
    pub options: Vec<String>,
}

/// cgroup limits. `None` means "not limited".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    /// CPU request in millicores → cpu shares / weight.
    pub cpu_request_millis: Option<u64>,
    /// CPU limit in millicores → CFS quota.
    pub cpu_limit_millis: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub pids_limit: Option<i64>,
}

/// The type check of a `hostPath` volume.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum HostPathType {
    #[default]
    Unset,
    DirectoryOrCreate,
    Directory,
    FileOrCreate,
    File,
    Socket,
    CharDevice,
    BlockDevice,
}

/// A pod-level volume.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum VolumeSource {
    /// Directory under the sandbox dir, or a tmpfs when `memory` (size in bytes).
    EmptyDir {
        memory: bool,
        size_limit: Option<u64>,
    },
    HostPath {
        path: PathBuf,
        kind: HostPathType,
    },
    /// A directory prepared by a volume plugin (ConfigMap, Secret, Downward API...):
    /// bound as is.
    Prepared {
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Volume {
    pub name: String,
    pub source: VolumeSource,
}

/// Everything needed to create a pod sandbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SandboxConfig {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// Hostname inside the pod (pod name, or `spec.hostname`).
    pub hostname: String,
    /// `spec.subdomain`, used for the FQDN line of `/etc/hosts`.
    pub subdomain: Option<String>,
    /// Cluster domain for the FQDN (e.g. `cluster.local`).
    pub cluster_domain: Option<String>,
    pub share_pid: bool,
    pub host_network: bool,
    pub host_ipc: bool,
    pub host_pid: bool,
    pub host_aliases: Vec<HostAlias>,
    pub dns: Option<DnsConfig>,
    /// Pod-level limits applied to the pod cgroup.
    pub resources: Resources,
    pub volumes: Vec<Volume>,
}

/// How the container's root filesystem is provided.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum RootfsSource {
    /// Used as is (tests, pre-made roots).
    Dir(PathBuf),
    /// Read-only image layers, topmost first; the runtime mounts an overlayfs with its own
    /// upper/work dirs under the container directory.
    Overlay { lower_dirs: Vec<PathBuf> },
}

/// A volume mounted into a container.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VolumeMount {
    /// Name of a volume of the sandbox.
    pub volume: String,
    pub container_path: String,
    pub read_only: bool,
    /// Path inside the volume (`subPath`, or `subPathExpr` already expanded).
    pub sub_path: Option<String>,
}

/// Capability changes on top of the default set (names with or without `CAP_`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Capabilities {
    pub add: Vec<String>,
    pub drop: Vec<String>,
}

/// What to do with the termination message file.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum TerminationMessagePolicy {
    #[default]
    File,
    FallbackToLogsOnError,
}

/// A container of a sandbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerConfig {
    pub name: String,
    pub rootfs: RootfsSource,
    pub image_config: ImageConfig,
    /// Kubernetes `command` (replaces ENTRYPOINT when non-empty).
    pub command: Vec<String>,
    /// Kubernetes `args` (replaces CMD when non-empty).
    pub args: Vec<String>,
    /// `NAME=value`, applied over the image env.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub mounts: Vec<VolumeMount>,
    pub run_as_user: Option<u32>,
    pub run_as_group: Option<u32>,
    pub run_as_non_root: bool,
    pub supplemental_groups: Vec<u32>,
    pub capabilities: Capabilities,
    pub privileged: bool,
    pub read_only_rootfs: bool,
    /// `allowPrivilegeEscalation: false`.
    pub no_new_privs: bool,
    pub stdin: bool,
    pub stdin_once: bool,
    pub tty: bool,
    pub resources: Resources,
    /// Defaults to `/dev/termination-log`.
    pub termination_message_path: Option<String>,
    pub termination_message_policy: TerminationMessagePolicy,
    pub restart_count: u32,
}

impl ContainerConfig {
    /// A container with Kubernetes defaults for everything but name and rootfs.
    pub fn new(name: impl Into<String>, rootfs: RootfsSource) -> Self {
        ContainerConfig {
            name: name.into(),
            rootfs,
            image_config: ImageConfig::default(),
            command: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            working_dir: None,
            mounts: Vec::new(),
            run_as_user: None,
            run_as_group: None,
            run_as_non_root: false,
            supplemental_groups: Vec::new(),
            capabilities: Capabilities::default(),
            privileged: false,
            read_only_rootfs: false,
            no_new_privs: false,
            stdin: false,
            stdin_once: false,
            tty: false,
            resources: Resources::default(),
            termination_message_path: None,
            termination_message_policy: TerminationMessagePolicy::File,
            restart_count: 0,
        }
    }
}
