//! Removing what belongs to pods the API no longer has (found at agent start).

use std::collections::HashSet;
use std::time::Duration;

use crate::ctx::Ctx;

const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// Sandboxes (with containers, network and volumes) of pods not in `live` (uids).
pub async fn orphans(ctx: &Ctx, live: &HashSet<String>) {
    let sandboxes = ctx
        .rt(|rt| Ok(rt.list_sandboxes()))
        .await
        .unwrap_or_default();
    for sb in sandboxes.into_iter().filter(|s| !live.contains(&s.uid)) {
        tracing::info!(
            "removing sandbox {} of deleted pod {}/{} ({})",
            sb.id,
            sb.namespace,
            sb.name,
            sb.uid
        );
        if let Err(e) = ctx.network.teardown(&sb.id, sb.netns_path.as_deref()).await {
            tracing::warn!("network teardown of {}: {e}", sb.id);
        }
        let (id, ns, name, uid) = (sb.id.clone(), sb.namespace, sb.name, sb.uid.clone());
        let res = ctx
            .rt(move |rt| {
                rt.stop_sandbox(&id, ORPHAN_GRACE)?;
                rt.remove_sandbox(&id)?;
                rt.remove_pod_logs(&ns, &name, &uid)
            })
            .await;
        if let Err(e) = res {
            tracing::warn!("removing sandbox {}: {e:#}", sb.id);
        }
        if let Err(e) = ctx.volumes.cleanup(&sb.uid).await {
            tracing::warn!("volumes of {}: {e:#}", sb.uid);
        }
    }
}
