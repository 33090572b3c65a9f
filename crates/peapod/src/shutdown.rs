//! Stopping on SIGTERM or SIGINT the way the kubelet does: at once, leaving running pods
//! running. Work in flight on blocking threads (a container stop waiting out its grace
//! period) is abandoned rather than awaited; the node agent resumes interrupted
//! terminations when it starts again, and every acknowledged API write is already durable
//! (fsynced before it was answered), so nothing acknowledged is lost.

use std::future::Future;
use std::time::Duration;

/// How long blocking work may still run once the process decided to stop.
const BLOCKING_GRACE: Duration = Duration::from_millis(300);

/// Resolves on the first SIGTERM or SIGINT.
pub async fn signalled() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
}

/// Runs `main` to completion, then drops the runtime without waiting for its blocking
/// tasks beyond a moment (dropping it plainly would wait for every one of them).
pub fn run<F: Future>(rt: tokio::runtime::Runtime, main: F) -> F::Output {
    let out = rt.block_on(main);
    rt.shutdown_timeout(BLOCKING_GRACE);
    out
}
