//! Stopping and removing sandboxes, and removing what belongs to pods that no longer exist
//! (found at agent start).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use crate::ctx::Ctx;

const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// Releases the sandbox's network (address, host ports) and stops its containers (`grace`)
/// and pause. The sandbox record stays, so container statuses and log paths remain
/// readable (`kubectl logs` of a completed pod). Failures are logged.
pub async fn stop_sandbox(ctx: &Ctx, id: &str, netns: Option<&Path>, grace: Duration) -> bool {
    // Network first: the namespace disappears with pause.
    if let Err(e) = ctx.network.teardown(id, netns).await {
        tracing::warn!("network teardown of sandbox {id}: {e}");
    }
    let sid = id.to_string();
    match ctx.rt(move |rt| rt.stop_sandbox(&sid, grace)).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("stopping sandbox {id}: {e:#}");
            false
        }
    }
}

/// Stops the sandbox, then removes it with everything it owns (containers, mounts, cgroups);
/// removal also kills whatever a failed stop left running.
pub async fn remove_sandbox(ctx: &Ctx, id: &str, netns: Option<&Path>, grace: Duration) {
    stop_sandbox(ctx, id, netns, grace).await;
    let sid = id.to_string();
    if let Err(e) = ctx.rt(move |rt| rt.remove_sandbox(&sid)).await {
        tracing::warn!("removing sandbox {id}: {e:#}");
    }
}

/// Sandboxes (with containers, network and volumes) of pods not in `live` (uids).
pub async fn orphans(ctx: &Ctx, live: &HashSet<String>) {
    let live_uids = live.clone();
    let sandboxes = ctx
        .rt(move |rt| Ok(rt.sandboxes_where(|s| !live_uids.contains(&s.uid))))
        .await
        .unwrap_or_default();
    for sb in sandboxes {
        tracing::info!(
            "removing sandbox {} of deleted pod {}/{} ({})",
            sb.id,
            sb.namespace,
            sb.name,
            sb.uid
        );
        remove_sandbox(ctx, &sb.id, sb.netns_path.as_deref(), ORPHAN_GRACE).await;
        let (ns, name, uid) = (sb.namespace, sb.name, sb.uid.clone());
        if let Err(e) = ctx.rt(move |rt| rt.remove_pod_logs(&ns, &name, &uid)).await {
            tracing::warn!("removing logs of {}: {e:#}", sb.uid);
        }
        if let Err(e) = ctx.volumes.cleanup(&sb.uid).await {
            tracing::warn!("volumes of {}: {e:#}", sb.uid);
        }
    }
}
