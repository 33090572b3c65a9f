//! Start-up recovery: re-adopt sandboxes whose supervisor still runs, clean up the rest.

use super::{Runtime, SandboxId};
use crate::paths::SandboxPaths;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoveryReport {
    /// Sandboxes whose supervisor answered: their containers keep running.
    pub adopted: Vec<SandboxId>,
    /// Sandboxes found dead (or half-created) and removed.
    pub cleaned: Vec<SandboxId>,
}

impl Runtime {
    pub fn recover(&self) -> RecoveryReport {
        let mut report = RecoveryReport::default();
        for id in self.sandbox_ids() {
            if super::check_id(&id).is_err() {
                continue;
            }
            let paths = SandboxPaths::new(&self.sandboxes_dir().join(&id));
            if paths.state().exists() && self.supervisor_alive(&paths) {
                report.adopted.push(id);
                continue;
            }
            match self.teardown_sandbox(&id, &paths) {
                Ok(()) => report.cleaned.push(id),
                Err(e) => tracing::warn!("cleaning dead sandbox {id}: {e:#}"),
            }
        }
        report
    }
}
