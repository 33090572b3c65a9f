//! The parts of an OCI image config the runtime needs (filled by the image store).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `NAME=value` entries.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    /// `uid`, `uid:gid`, `name` or `name:group`.
    pub user: Option<String>,
    /// e.g. `SIGQUIT` or `3`.
    pub stop_signal: Option<String>,
}
