//! The strategies: RollingUpdate (surge the new ReplicaSet, then scale old ones down as
//! availability allows), Recreate (old to zero, wait for their pods to go, then the new),
//! and plain scaling, which spreads a size change over active ReplicaSets in proportion.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::sets::{scale_rs, Sets};
use super::util::*;
use crate::context::Context;
use crate::podutil;

/// One step of a rolling update. Returns whether it changed anything.
pub async fn rolling(ctx: &Context, d: &Deployment, sets: &mut Sets) -> anyhow::Result<bool> {
    if scale_new_up(ctx, d, sets).await? {
        return Ok(true);
    }
    scale_old_down(ctx, d, sets).await
}

async fn scale_new_up(ctx: &Context, d: &Deployment, sets: &mut Sets) -> anyhow::Result<bool> {
    let want = replicas(d);
    let (surge, _) = fenceposts(d).map_err(anyhow::Error::msg)?;
    let current: i32 = sets.all().iter().map(|rs| rs_replicas(rs)).sum();
    let Some(new) = sets.new.as_mut() else {
        return Ok(false);
    };
    let have = rs_replicas(new);
    let to = if have > want {
        want
    } else {
        let room = (want + surge - current).max(0);
        have + room.min(want - have)
    };
    if to == have {
        return Ok(false);
    }
    scale_rs(ctx, d, new, to).await
}

async fn scale_old_down(ctx: &Context, d: &Deployment, sets: &mut Sets) -> anyhow::Result<bool> {
    let old_count: i32 = sets.old.iter().map(rs_replicas).sum();
    if old_count == 0 {
        return Ok(false);
    }
    let want = replicas(d);
    let (_, max_unavailable) = fenceposts(d).map_err(anyhow::Error::msg)?;
    let min_available = want - max_unavailable;
    let all_count: i32 = sets.all().iter().map(|rs| rs_replicas(rs)).sum();
    let new_unavailable = sets
        .new
        .as_ref()
        .map(|rs| rs_replicas(rs) - rs_available(rs))
        .unwrap_or(0)
        .max(0);
    let max_scale_down = all_count - min_available - new_unavailable;
    if max_scale_down <= 0 {
        return Ok(false);
    }
    // Unhealthy old pods go first: removing them costs no availability.
    sets.old.sort_by_key(|rs| {
        rs.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
    });
    let mut budget = max_scale_down;
    let mut changed = false;
    for rs in sets.old.iter_mut() {
        if budget == 0 {
            break;
        }
        let unhealthy = (rs_replicas(rs) - rs_available(rs)).max(0);
        let cut = unhealthy.min(budget);
        if cut > 0 && scale_rs(ctx, d, rs, rs_replicas(rs) - cut).await? {
            budget -= cut;
            changed = true;
        }
    }
    // Then as many available old pods as keep minAvailable.
    let available: i32 = sets.all().iter().map(|rs| rs_available(rs)).sum();
    let mut total = (available - min_available).min(budget);
    for rs in sets.old.iter_mut() {
        if total <= 0 {
            break;
        }
        let n = rs_replicas(rs);
        if n == 0 {
            continue;
        }
        let cut = n.min(total);
        if scale_rs(ctx, d, rs, n - cut).await? {
            total -= cut;
            changed = true;
        }
    }
    Ok(changed)
}

/// Recreate: old ReplicaSets to zero, and the new one only once no old pod is left.
/// Returns whether it is still waiting (so the caller does not create the new one yet).
pub async fn recreate_scale_down(
    ctx: &Context,
    d: &Deployment,
    sets: &mut Sets,
) -> anyhow::Result<bool> {
    let mut changed = false;
    for rs in sets.old.iter_mut().filter(|rs| rs_replicas(rs) > 0) {
        changed |= scale_rs(ctx, d, rs, 0).await?;
    }
    if changed {
        return Ok(true);
    }
    Ok(old_pods_running(ctx, d, &sets.old))
}

fn old_pods_running(ctx: &Context, d: &Deployment, old: &[ReplicaSet]) -> bool {
    if old
        .iter()
        .any(|rs| rs.status.as_ref().map(|s| s.replicas).unwrap_or(0) > 0)
    {
        return true;
    }
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let uids: Vec<&str> = old
        .iter()
        .filter_map(|rs| rs.metadata.uid.as_deref())
        .collect();
    ctx.pods_in(&ns).iter().any(|p| {
        !podutil::is_terminal(p)
            && crate::ownership::controller_of(&p.metadata)
                .is_some_and(|r| uids.contains(&r.uid.as_str()))
    })
}

pub async fn recreate_scale_up(
    ctx: &Context,
    d: &Deployment,
    sets: &mut Sets,
) -> anyhow::Result<bool> {
    let want = replicas(d);
    match sets.new.as_mut() {
        Some(rs) => scale_rs(ctx, d, rs, want).await,
        None => Ok(false),
    }
}

/// A size change (or a paused deployment): only replica counts move, spread over the
/// active ReplicaSets in proportion to their size, so a rollout in progress keeps its shape.
pub async fn scale(ctx: &Context, d: &Deployment, sets: &mut Sets) -> anyhow::Result<()> {
    let want = replicas(d);
    let active: Vec<usize> = (0..sets.old.len())
        .filter(|i| rs_replicas(&sets.old[*i]) > 0)
        .collect();
    let new_active = sets.new.as_ref().is_some_and(|rs| rs_replicas(rs) > 0);
    // One active ReplicaSet (or none): it simply takes the whole size.
    if active.len() + usize::from(new_active) <= 1 {
        let target = if new_active || active.is_empty() {
            sets.new.as_mut()
        } else {
            sets.old.get_mut(active[0])
        };
        let target = match target {
            Some(t) => Some(t),
            None => sets.old.iter_mut().max_by_key(|rs| rs_revision(rs)),
        };
        if let Some(rs) = target {
            scale_rs(ctx, d, rs, want).await?;
        }
        return Ok(());
    }
    // The new ReplicaSet is complete: old ones go to zero.
    if let Some(new) = sets.new.as_ref() {
        let saturated = rs_replicas(new) == want && rs_available(new) == want;
        if saturated {
            for rs in sets.old.iter_mut() {
                scale_rs(ctx, d, rs, 0).await?;
            }
            return Ok(());
        }
    }
    let (surge, _) = fenceposts(d).map_err(anyhow::Error::msg)?;
    let allowed = want + surge;
    let mut targets: Vec<&mut ReplicaSet> = sets
        .old
        .iter_mut()
        .chain(sets.new.iter_mut())
        .filter(|rs| rs_replicas(rs) > 0)
        .collect();
    let current: i32 = targets.iter().map(|rs| rs_replicas(rs)).sum();
    let to_add = allowed - current;
    if to_add == 0 {
        return Ok(());
    }
    // Largest first; on ties, newer first when growing and older first when shrinking.
    targets.sort_by(|a, b| {
        let ta = a
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0));
        let tb = b
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0));
        rs_replicas(b)
            .cmp(&rs_replicas(a))
            .then(if to_add > 0 { tb.cmp(&ta) } else { ta.cmp(&tb) })
    });
    let sizes = proportional(
        &targets
            .iter()
            .map(|rs| (rs_replicas(rs), max_replicas_annotation(rs)))
            .collect::<Vec<_>>(),
        allowed,
        to_add,
    );
    for (rs, size) in targets.into_iter().zip(sizes) {
        scale_rs(ctx, d, rs, size).await?;
    }
    Ok(())
}

fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(MAX_REPLICAS))
        .and_then(|v| v.parse().ok())
}

/// New sizes for `(current size, size the deployment allowed when it was last scaled)`
/// pairs, sorted largest first, so that together they change by `to_add`: each gets its
/// share of the change, and the rounding remainder goes to the first.
pub fn proportional(sets: &[(i32, Option<i32>)], allowed: i32, to_add: i32) -> Vec<i32> {
    let mut added = 0;
    let mut out: Vec<i32> = Vec::with_capacity(sets.len());
    for (size, max) in sets {
        let share = match max {
            Some(m) if *m > 0 => {
                let fraction =
                    (f64::from(*size) * f64::from(allowed) / f64::from(*m)).round() as i32 - size;
                let left = to_add - added;
                if to_add > 0 {
                    fraction.clamp(0, left)
                } else {
                    fraction.clamp(left, 0)
                }
            }
            _ => 0,
        };
        added += share;
        out.push((size + share).max(0));
    }
    if let Some(first) = out.first_mut() {
        *first = (*first + to_add - added).max(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::proportional;

    #[test]
    fn spreads_in_proportion_with_remainder_to_largest() {
        // 10 -> 15 with maxSurge 3 (allowed 13 -> 18): sizes 8 and 5 grow 8*18/13≈11, 5*18/13≈7.
        assert_eq!(
            proportional(&[(8, Some(13)), (5, Some(13))], 18, 5),
            vec![11, 7]
        );
        // Shrinking keeps the total exact.
        let out = proportional(&[(6, Some(12)), (6, Some(12))], 6, -6);
        assert_eq!(out.iter().sum::<i32>(), 6);
        // Without the annotation everything goes to the first.
        assert_eq!(proportional(&[(2, None), (1, None)], 5, 2), vec![4, 1]);
    }
}
