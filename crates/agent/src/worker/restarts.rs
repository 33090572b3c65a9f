//! Restarting containers: the restart back-off (CrashLoopBackOff), processes that could not
//! be started (RunContainerError) and containers that could not be created.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Container;
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};

use super::PodWorker;
use crate::backoff::{go_duration, Decision};
use crate::events::EventType;
use crate::lifecycle::pod_full_name;
use crate::status::Waiting;

/// A container whose creation failed is retried this often (the kubelet's pod worker
/// back-off), not on every sync.
pub(super) const CREATE_RETRY: chrono::Duration = chrono::Duration::seconds(10);

/// An attempt to run a container whose process could not be started.
#[derive(Debug, Clone)]
pub(super) struct FailedRun {
    at: DateTime<Utc>,
    message: String,
    /// The instance that failed to start, if the runtime kept one.
    id: Option<String>,
    restart: u32,
}

impl FailedRun {
    /// What the status shows when the container will not be retried: terminated with the
    /// runtime's StartError (exit 128), like runc-based runtimes report it.
    pub(super) fn as_exited(&self, name: &str) -> RtStatus {
        RtStatus {
            id: self.id.clone().unwrap_or_default(),
            name: name.to_string(),
            sandbox_id: String::new(),
            state: RtState::Exited,
            pid: None,
            exit_code: Some(128),
            created_at: self.at,
            started_at: None,
            finished_at: Some(self.at),
            reason: Some("StartError".into()),
            message: Some(self.message.clone()),
            log_path: PathBuf::new(),
            restart_count: self.restart,
        }
    }
}

impl PodWorker {
    /// Starts a container that has no running instance: at once the first time; after a
    /// failed attempt only once the restart back-off (or the create retry period) allows.
    pub(super) async fn start_or_retry(
        &mut self,
        c: &Container,
        init: bool,
        cur: Option<&RtStatus>,
    ) {
        if self.create_retry_pending(&c.name) {
            return;
        }
        if let Some((failed_at, failed_restart)) =
            self.start_failed.get(&c.name).map(|f| (f.at, f.restart))
        {
            if !self.retries_failed_runs(c, init) {
                return;
            }
            if self.backoff_allows(c, init, None, failed_at) {
                // The instance that failed to start (if any) is replaced; each attempt
                // counts as a restart, as each is a new container for the kubelet.
                let restart = cur.map_or(failed_restart, |c| c.restart_count) + 1;
                self.start(c, init, cur, restart).await;
            }
            return;
        }
        match cur {
            // Created but never started (agent stopped in between): redo it.
            Some(cur) => self.start(c, init, Some(cur), cur.restart_count).await,
            None => self.start(c, init, None, 0).await,
        }
    }

    /// Creating the container failed lately: keep showing CreateContainerError for now.
    pub(super) fn create_retry_pending(&self, name: &str) -> bool {
        self.create_failed
            .get(name)
            .is_some_and(|at| Utc::now() < *at + CREATE_RETRY)
    }

    /// Restarts a container whose instance ended, or waits out its back-off.
    pub(super) async fn restart_with_backoff(&mut self, c: &Container, init: bool, cur: &RtStatus) {
        if self.create_retry_pending(&c.name) {
            return;
        }
        // The back-off runs from the end of the last attempt: a failed retry, else the
        // instance's exit (or, for one that never reported an end, its creation).
        let (started, finished) = match self.start_failed.get(&c.name) {
            Some(f) => (None, f.at),
            None => (
                cur.started_at,
                cur.finished_at.or(cur.started_at).unwrap_or(cur.created_at),
            ),
        };
        if self.backoff_allows(c, init, started, finished) {
            self.probes.remove(&cur.id);
            // An instance that never ran is replaced; one that ran stays as lastState.
            let replace = cur.started_at.is_none().then_some(cur);
            self.start(c, init, replace, cur.restart_count + 1).await;
        }
    }

    /// Whether the restart back-off lets the container (which ran from `started` until
    /// `finished`) start again now; if not, it waits in CrashLoopBackOff.
    pub(super) fn backoff_allows(
        &mut self,
        c: &Container,
        init: bool,
        started: Option<DateTime<Utc>>,
        finished: DateTime<Utc>,
    ) -> bool {
        let key = c.name.clone();
        match self.backoff.check(&key, started, finished, Utc::now()) {
            Decision::RestartNow => {
                self.backoff.restarted(&key);
                true
            }
            Decision::Wait { delay, until } => {
                let pod = &self.pod;
                let msg = format!(
                    "back-off {} restarting failed container={} pod={}",
                    go_duration(delay),
                    c.name,
                    pod_full_name(pod)
                );
                let fresh = self.waiting.get(&c.name).map(|w| w.reason.as_str())
                    != Some("CrashLoopBackOff");
                if fresh {
                    self.ctx.events.container(
                        pod,
                        &c.name,
                        init,
                        EventType::Warning,
                        "BackOff",
                        format!(
                            "Back-off restarting failed container {} in pod {}",
                            c.name,
                            pod_full_name(pod)
                        ),
                    );
                    // Wake up when the back-off ends.
                    let notify = self.notify.clone();
                    let wait = (until - Utc::now()).to_std().unwrap_or_default();
                    tokio::spawn(async move {
                        tokio::time::sleep(wait).await;
                        notify.notify_one();
                    });
                }
                self.waiting
                    .insert(c.name.clone(), Waiting::new("CrashLoopBackOff", Some(msg)));
                false
            }
        }
    }

    /// The container's process could not be run: RunContainerError, retried through the
    /// restart back-off like a crash.
    pub(super) fn run_failed(
        &mut self,
        c: &Container,
        id: Option<String>,
        restart: u32,
        msg: String,
    ) {
        let failed = FailedRun {
            at: Utc::now(),
            message: msg.clone(),
            id,
            restart,
        };
        self.start_failed.insert(c.name.clone(), failed);
        self.waiting
            .insert(c.name.clone(), Waiting::new("RunContainerError", Some(msg)));
    }

    /// Whether a container whose process failed to start is tried again: not under
    /// `restartPolicy: Never` (sidecars always are).
    pub(super) fn retries_failed_runs(&self, c: &Container, init: bool) -> bool {
        let sidecar = init && c.restart_policy.as_deref() == Some("Always");
        let policy = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always");
        sidecar || policy != "Never"
    }
}
