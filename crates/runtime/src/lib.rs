//! peapod's container runtime: pod sandboxes held by a pause process, containers run by
//! libcontainer from a per-pod supervisor, CRI logs, exec, volumes and cgroups.
//!
//! The node agent drives it through [`Runtime`]; the supervisor side runs in a helper
//! process started from the same binary ([`helper::run`]).

pub mod cgroups;
pub mod config;
mod errors;
pub mod helper;
pub mod image;
pub mod logs;
mod migration_primer;
mod mounts;
mod paths;
pub mod platform;
mod protocol;
mod runtime;
mod sandbox_files;
pub mod spec;
pub mod status;
mod supervisor;
pub mod volumes;

pub use config::*;
pub use errors::{ContainerConfigError, ProcessStartError, TimeoutError};
pub use image::ImageConfig;
pub use runtime::{
    AttachOptions, AttachSession, ContainerId, ExecOptions, ExecOutput, ExecSession,
    RecoveryReport, Runtime, Sandbox, SandboxId, SandboxState, SandboxStatus,
};
pub use status::{ContainerState, ContainerStatus};
