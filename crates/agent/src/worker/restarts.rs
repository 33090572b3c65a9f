//! Restarting containers, as decided by the plan: waiting out the restart back-off
//! (CrashLoopBackOff) and recording processes that could not be started (RunContainerError).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Container;
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};

use super::role::Role;
use super::PodWorker;
use crate::backoff::go_duration;
use crate::events::EventType;
use crate::lifecycle::pod_full_name;
use crate::status::Waiting;

/// An attempt to run a container whose process could not be started.
#[derive(Debug, Clone)]
pub(super) struct FailedRun {
    pub(super) at: DateTime<Utc>,
    message: String,
    /// The instance that failed to start, if the runtime kept one.
    id: Option<String>,
    pub(super) restart: u32,
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
    /// The container waits in CrashLoopBackOff until `until`: a BackOff event and a wake-up
    /// when the wait starts.
    pub(super) fn wait_backoff(
        &mut self,
        c: &Container,
        role: Role,
        delay: Duration,
        until: DateTime<Utc>,
    ) {
        let pod = &self.pod;
        let msg = format!(
            "back-off {} restarting failed container={} pod={}",
            go_duration(delay),
            c.name,
            pod_full_name(pod)
        );
        let fresh =
            self.waiting.get(&c.name).map(|w| w.reason.as_str()) != Some("CrashLoopBackOff");
        if fresh {
            self.ctx.events.container(
                pod,
                &c.name,
                role.listed_as_init(),
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
}
