//! postStart/preStop hooks and graceful container stop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Pod};

use crate::ctx::Ctx;
use crate::events::EventType;
use crate::handlers::{self, Outcome, Target};

/// Hooks have no timeout of their own besides the grace period; cap runaway ones.
const POST_START_LIMIT: Duration = Duration::from_secs(120);

pub async fn run_hook(
    ctx: &Arc<Ctx>,
    h: &LifecycleHandler,
    container: &Container,
    container_id: &str,
    pod_ip: &str,
    limit: Duration,
) -> Outcome {
    let t = Target {
        runtime: &ctx.runtime,
        container_id,
        container,
        pod_ip,
    };
    if let Some(e) = &h.exec {
        handlers::exec(&t, e, limit).await
    } else if let Some(g) = &h.http_get {
        handlers::http_get(&t, g, limit, handlers::HttpCheck::Hook).await
    } else if let Some(s) = &h.tcp_socket {
        handlers::tcp(&t, s, limit).await
    } else if let Some(s) = &h.sleep {
        let d = Duration::from_secs(s.seconds.max(0) as u64).min(limit);
        tokio::time::sleep(d).await;
        Outcome::Success
    } else {
        Outcome::Failure("lifecycle handler has no action".into())
    }
}

/// Runs postStart; on failure records FailedPostStartHook (the caller kills the container).
pub async fn post_start(
    ctx: &Arc<Ctx>,
    pod: &Pod,
    c: &Container,
    init: bool,
    id: &str,
    pod_ip: &str,
) -> Result<(), String> {
    let Some(h) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) else {
        return Ok(());
    };
    match run_hook(ctx, h, c, id, pod_ip, POST_START_LIMIT).await {
        Outcome::Success => Ok(()),
        Outcome::Failure(msg) => {
            let text = if h.exec.is_some() {
                format!(
                    "Exec lifecycle hook ({:?}) for Container {:?} in Pod {:?} failed - error: command {:?} exited with non-zero code, message: {msg:?}",
                    h.exec.as_ref().and_then(|e| e.command.clone()).unwrap_or_default(),
                    c.name,
                    pod_full_name(pod),
                    h.exec.as_ref().and_then(|e| e.command.clone()).unwrap_or_default().join(" "),
                )
            } else {
                format!(
                    "HTTP lifecycle hook for Container {:?} in Pod {:?} failed - error: {msg}",
                    c.name,
                    pod_full_name(pod)
                )
            };
            ctx.events.container(
                pod,
                &c.name,
                init,
                EventType::Warning,
                "FailedPostStartHook",
                &text,
            );
            Err(text)
        }
    }
}

pub fn pod_full_name(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or(""),
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.uid.as_deref().unwrap_or("")
    )
}

/// preStop (within the grace period), then the stop signal, then SIGKILL when grace runs out.
#[allow(clippy::too_many_arguments)]
pub async fn kill_container(
    ctx: &Arc<Ctx>,
    pod: &Pod,
    c: Option<&Container>,
    init: bool,
    id: &str,
    pod_ip: &str,
    grace: Duration,
    message: Option<String>,
) {
    let name = c.map(|c| c.name.clone()).unwrap_or_default();
    if let Some(m) = message {
        ctx.events
            .container(pod, &name, init, EventType::Normal, "Killing", m);
    }
    let began = Instant::now();
    if let Some((c, h)) = c.and_then(|c| {
        c.lifecycle
            .as_ref()
            .and_then(|l| l.pre_stop.as_ref())
            .map(|h| (c, h))
    }) {
        if let Outcome::Failure(msg) = run_hook(ctx, h, c, id, pod_ip, grace).await {
            ctx.events.container(
                pod,
                &name,
                init,
                EventType::Warning,
                "FailedPreStopHook",
                format!("PreStopHook failed: {msg}"),
            );
        }
    }
    // kubelet gives the container at least 2 s after preStop.
    let rest = grace
        .saturating_sub(began.elapsed())
        .max(Duration::from_secs(2).min(grace));
    let id = id.to_string();
    if let Err(e) = ctx.rt(move |rt| rt.stop_container(&id, rest)).await {
        tracing::warn!("stopping container {name}: {e:#}");
    }
}
