//! The node's image store: import (docker-archive, oci-archive, OCI layout), pull
//! from OCI registries, list/inspect/remove, and unpacked layers for overlayfs.
//!
//! Layers are unpacked once each (keyed by diffID) into `DATA_DIR/images/layers/`,
//! in overlayfs lower-dir format; a container's rootfs is an overlay of
//! `ImageStore::layer_dirs(image)` (topmost first) plus its own upper dir.

mod config;
mod digest;
mod error;
mod fsutil;
mod import;
mod manifest;
mod pull;
mod record;
mod reference;
mod registries;
mod source;
mod store;
mod unpack;

pub use config::ImageConfig;
pub use digest::Digest;
pub use error::{ImageError, Result};
pub use import::ImportDirReport;
pub use pull::{no_progress, PullEvent};
pub use record::ImageRecord;
pub use reference::{normalize_reference, NormalizedRef, DEFAULT_REGISTRY};
pub use registries::{is_loopback, Endpoint, RegistriesConfig, REGISTRIES_FILE};
pub use store::{ImageInspect, ImageStore, Removed};
