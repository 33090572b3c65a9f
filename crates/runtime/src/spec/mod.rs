//! From a Kubernetes-shaped container config to an OCI runtime spec.

mod image_config;
pub mod oci;
pub mod process;

pub use image_config::ImageConfig;
