//! Where a pod worker is in the pod's life.

use crate::status::Terminal;

#[derive(Debug, Clone)]
pub(super) enum Lifecycle {
    /// Not admitted to the node yet.
    Pending,
    /// Admitted: its containers are driven toward the spec.
    Running,
    /// The worker decided how the pod ends (admission refused it, its deadline passed);
    /// the containers are stopped once the status written says so.
    Ending { terminal: Terminal, admitted: bool },
    /// Succeeded or Failed: containers are stopped, nothing restarts. `terminal` is the
    /// worker's own verdict, when it decided the end.
    Finished { terminal: Option<Terminal> },
}

impl Lifecycle {
    /// The pod holds (or held until it ended) a place on the node.
    pub(super) fn admitted(&self) -> bool {
        match self {
            Lifecycle::Pending => false,
            Lifecycle::Running => true,
            Lifecycle::Ending { admitted, .. } => *admitted,
            Lifecycle::Finished { .. } => true,
        }
    }

    pub(super) fn finished(&self) -> bool {
        matches!(self, Lifecycle::Finished { .. })
    }

    /// The worker's own verdict on how the pod ends, if it made one.
    pub(super) fn terminal(&self) -> Option<&Terminal> {
        match self {
            Lifecycle::Ending { terminal, .. } => Some(terminal),
            Lifecycle::Finished { terminal } => terminal.as_ref(),
            Lifecycle::Pending | Lifecycle::Running => None,
        }
    }

    /// Ends the pod with the worker's verdict.
    pub(super) fn end(&mut self, terminal: Terminal) {
        let admitted = self.admitted();
        *self = Lifecycle::Ending { terminal, admitted };
    }

    /// The pod reached Succeeded/Failed.
    pub(super) fn finish(&mut self) {
        let terminal = self.terminal().cloned();
        *self = Lifecycle::Finished { terminal };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline() -> Terminal {
        Terminal {
            phase: "Failed",
            reason: "DeadlineExceeded".into(),
            message: String::new(),
        }
    }

    #[test]
    fn an_ended_pod_keeps_its_verdict_and_admission() {
        let mut l = Lifecycle::Running;
        l.end(deadline());
        assert!(l.admitted() && !l.finished());
        assert_eq!(l.terminal(), Some(&deadline()));
        l.finish();
        assert!(l.finished());
        assert_eq!(l.terminal(), Some(&deadline()));
    }

    #[test]
    fn a_refused_pod_was_never_admitted() {
        let mut l = Lifecycle::Pending;
        l.end(deadline());
        assert!(!l.admitted());
        assert!(l.terminal().is_some(), "terminal pods start nothing");
    }
}
