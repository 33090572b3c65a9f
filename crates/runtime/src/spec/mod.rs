//! From a Kubernetes-shaped container config to an OCI runtime spec.

pub mod oci;
pub mod process;
