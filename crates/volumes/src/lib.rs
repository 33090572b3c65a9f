//! API-projected pod volumes on the node: `configMap`, `secret`, `downwardAPI` and `projected`
//! (secret, configMap, downwardAPI and serviceAccountToken sources), materialised as host
//! directories the container runtime bind-mounts.
//!
//! - [`VolumeManager::prepare`] writes a pod's volumes under
//!   `DATA/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>/`; secret and projected volumes
//!   each get their own tmpfs so secrets and tokens never touch the disk.
//! - Files are written the kubelet's atomic way ([`atomic_writer`]): `..<timestamp>` version
//!   directories, a `..data` symlink swapped by `rename`, and top-level `key -> ..data/key`
//!   links, so a reader sees either the old or the new set, never a mix.
//! - [`VolumeManager::spawn_refresher`] keeps them current (objects, pod labels/annotations,
//!   token renewal); [`VolumeManager::cleanup`] unmounts and removes them.
//!
//! A `subPath` mount binds one resolved file, so it does not follow updates (as in
//! Kubernetes); that is the caller's concern.

pub mod atomic_writer;
mod cleanup;
mod error;
mod fetch;
mod layout;
mod manager;
pub mod mounts;
mod payload;
mod refresher;
mod tokens;
mod writer;

pub use error::VolumeError;
pub use manager::{VolumeManager, DEFAULT_RESYNC_PERIOD};
