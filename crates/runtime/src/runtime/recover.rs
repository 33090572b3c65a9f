//! Start-up recovery: re-adopt sandboxes whose supervisor still runs, keep the ones stopped
//! on purpose (a finished pod's logs and statuses live there), clean up the rest.

use super::{Runtime, SandboxId, SandboxState, SandboxStatus};
use crate::paths::SandboxPaths;
use crate::status::read_json;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoveryReport {
    /// Sandboxes whose supervisor answered: their containers keep running.
    pub adopted: Vec<SandboxId>,
    /// Sandboxes stopped by `stop_sandbox`: nothing runs, their records stay.
    pub stopped: Vec<SandboxId>,
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
            let state = read_json::<SandboxStatus>(&paths.state()).map(|s| s.state);
            if matches!(state, Ok(SandboxState::NotReady)) && !paths.socket().exists() {
                report.stopped.push(id);
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
