//! ReplicaSet: keeps `replicas` pods matching the selector, adopting orphans and releasing
//! pods that stopped matching; creates in slow-start batches and deletes the least valuable
//! pods first; reports replicas/fullyLabeled/ready/available and failure conditions.
//! [`sync`] is also the ReplicationController's loop (see `replication`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;
use serde_json::json;

use crate::context::Context;
use crate::ownership::{self, claim, controller_ref, ignore_not_found};
use crate::podutil;
use crate::runner::{self, ReconcileResult};
use peapod_apimachinery::selectors;

/// At most this many creations or deletions per reconcile (as Kubernetes' burstReplicas).
const BURST: usize = 500;
/// Slow start: the first batch creates this many, each successful batch doubles.
const SLOW_START_INITIAL: usize = 1;
const RESYNC: Duration = Duration::from_secs(300);

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let triggers = vec![pod_triggers(&ctx)];
    runner::run(
        "replicaset",
        &ctx.replicasets,
        triggers,
        workers,
        ctx.clone(),
        reconcile,
    )
    .await;
}

fn pod_triggers(ctx: &Arc<Context>) -> BoxStream<'static, ObjectRef<ReplicaSet>> {
    runner::owned_pod_triggers(
        ctx.pods.subscribe(),
        ctx.replicasets.store(),
        "ReplicaSet",
        |o, labels| {
            o.spec.as_ref().is_some_and(|s| {
                peapod_apimachinery::selectors::workload_selects(&s.selector, labels)
            })
        },
    )
}

async fn reconcile(rs: Arc<ReplicaSet>, ctx: Arc<Context>) -> ReconcileResult {
    let Some(synced) = sync(&ctx, &rs, controller_ref(&*rs)).await? else {
        return Ok(Action::requeue(RESYNC));
    };
    if rs.status.as_ref() != Some(&synced.status) {
        let api: Api<ReplicaSet> = ctx.api(&rs.namespace().unwrap_or_default());
        let body =
            json!({"status": crate::status::clearing_nulls(&synced.status, &["conditions"])?});
        ignore_not_found(
            api.patch_status(
                &rs.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await,
        )?;
    }
    synced.finish()
}

/// One pass over a replica set's pods: the status to write, and what to do next.
pub struct Synced {
    pub status: ReplicaSetStatus,
    failure: Option<anyhow::Error>,
    next: Action,
}

impl Synced {
    /// The reconcile's result once the status is written: a failed create or delete is
    /// retried with back-off.
    pub fn finish(self) -> ReconcileResult {
        match self.failure {
            Some(e) => Err(e.into()),
            None => Ok(self.next),
        }
    }
}

/// Claims the pods `rs` selects on behalf of `owner`, the object that controls them (the
/// ReplicaSet itself, or the ReplicationController `rs` was converted from), creates or
/// deletes pods toward `replicas`, and computes the status. None without a spec.
pub async fn sync(
    ctx: &Context,
    rs: &ReplicaSet,
    owner: OwnerReference,
) -> Result<Option<Synced>, runner::ReconcileError> {
    let ns = rs.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&rs.metadata).to_string();
    let Some(spec) = rs.spec.as_ref() else {
        return Ok(None);
    };
    let pods: Api<Pod> = ctx.api(&ns);
    let deleting = rs.metadata.deletion_timestamp.is_some();

    let candidates: Vec<_> = ctx
        .pods_in(&ns)
        .into_iter()
        .filter(|p| podutil::is_active(p))
        .collect();
    let owned = claim(&pods, &owner, deleting, candidates, |p| {
        selectors::workload_selects(&spec.selector, p.metadata.labels.as_ref())
    })
    .await?;

    let settled = ctx.pods_settled(&ns, &uid);
    let mut failure = None;
    if settled && !deleting {
        let desired = usize::try_from(spec.replicas.unwrap_or(1).max(0)).unwrap_or(0);
        if let Err(e) = manage_replicas(ctx, rs, &owner, &owned, desired).await {
            failure = Some(e);
        }
    }

    let now = ctx.clock.now();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let status = compute_status(rs, &owned, min_ready, now, failure.as_ref());
    Ok(Some(Synced {
        status,
        failure,
        next: next_check(&owned, min_ready, now, settled),
    }))
}

/// When to look again without an event: when a ready pod turns available, soon while
/// waiting for the cache, else a periodic resync.
pub fn next_check(
    pods: &[Arc<Pod>],
    min_ready: i32,
    now: chrono::DateTime<chrono::Utc>,
    settled: bool,
) -> Action {
    let mut wait = if settled {
        RESYNC
    } else {
        Duration::from_secs(2)
    };
    if min_ready > 0 {
        for p in pods {
            if let Some(at) = podutil::available_at(p, min_ready) {
                if at > now {
                    let d = (at - now).to_std().unwrap_or_default() + Duration::from_millis(50);
                    wait = wait.min(d);
                }
            }
        }
    }
    Action::requeue(wait)
}

async fn manage_replicas(
    ctx: &Context,
    rs: &ReplicaSet,
    owner: &OwnerReference,
    owned: &[Arc<Pod>],
    desired: usize,
) -> anyhow::Result<()> {
    let ns = rs.namespace().unwrap_or_default();
    let uid = ownership::uid_of(&rs.metadata);
    let api: Api<Pod> = ctx.api(&ns);
    if owned.len() < desired {
        let Some(template) = rs.spec.as_ref().and_then(|s| s.template.as_ref()) else {
            anyhow::bail!("spec.template is missing");
        };
        let want = (desired - owned.len()).min(BURST);
        let prefix = podutil::generate_name_prefix(&rs.name_any());
        slow_start(want, |_| {
            let pod = podutil::pod_from_template(
                template,
                &ns,
                owner.clone(),
                None,
                Some(prefix.clone()),
                &BTreeMap::new(),
            );
            let api = api.clone();
            async move {
                let created = api.create(&PostParams::default(), &pod).await?;
                ctx.expectations.created(uid, &created.name_any());
                Ok(())
            }
        })
        .await?;
    } else if owned.len() > desired {
        let mut victims: Vec<_> = owned.to_vec();
        victims.sort_by(|a, b| podutil::cmp_deletion_priority(a, b));
        victims.truncate((owned.len() - desired).min(BURST));
        for p in victims {
            let n = p.name_any();
            ctx.expectations.deleted(uid, &n);
            ignore_not_found(api.delete(&n, &DeleteParams::default()).await)?;
        }
    }
    Ok(())
}

/// Runs `count` creations in batches of 1, 2, 4, …; stops at the first failing batch so a
/// quota or admission error costs one request, not hundreds.
pub async fn slow_start<F, Fut>(count: usize, mut make: F) -> anyhow::Result<usize>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut done = 0;
    let mut batch = SLOW_START_INITIAL;
    while done < count {
        let n = batch.min(count - done);
        let results = futures::future::join_all((done..done + n).map(&mut make)).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        done += ok;
        if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
            return Err(e);
        }
        batch *= 2;
    }
    Ok(done)
}

fn compute_status(
    rs: &ReplicaSet,
    owned: &[Arc<Pod>],
    min_ready: i32,
    now: chrono::DateTime<chrono::Utc>,
    failure: Option<&anyhow::Error>,
) -> ReplicaSetStatus {
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let fully_labeled = owned
        .iter()
        .filter(|p| {
            let l = p.metadata.labels.as_ref();
            template_labels
                .iter()
                .all(|(k, v)| l.and_then(|l| l.get(k)) == Some(v))
        })
        .count();
    let ready = owned.iter().filter(|p| podutil::is_ready(p)).count();
    let available = owned
        .iter()
        .filter(|p| podutil::is_available(p, min_ready, now))
        .count();
    let old = rs.status.clone().unwrap_or_default();
    let mut conditions: Vec<ReplicaSetCondition> = old
        .conditions
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.type_ != "ReplicaFailure")
        .collect();
    if let Some(e) = failure {
        let previous = rs
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "ReplicaFailure"));
        let reason = if owned.len()
            < rs.spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1)
                .max(0) as usize
        {
            "FailedCreate"
        } else {
            "FailedDelete"
        };
        conditions.push(ReplicaSetCondition {
            type_: "ReplicaFailure".into(),
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some(format!("{e:#}")),
            last_transition_time: previous
                .and_then(|p| p.last_transition_time.clone())
                .or(Some(peapod_apimachinery::timeconv::time(now))),
        });
    }
    ReplicaSetStatus {
        replicas: count(owned.len()),
        fully_labeled_replicas: Some(count(fully_labeled)),
        ready_replicas: Some(count(ready)),
        available_replicas: Some(count(available)),
        observed_generation: rs.metadata.generation,
        conditions: if conditions.is_empty() {
            None
        } else {
            Some(conditions)
        },
        terminating_replicas: old.terminating_replicas,
    }
}

pub fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::slow_start;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn slow_start_stops_at_first_failing_batch() {
        let calls = AtomicUsize::new(0);
        // Fails from the 4th call on: batches 1, 2 succeed (3 made), batch of 4 fails.
        let r = slow_start(10, |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n >= 3 {
                    anyhow::bail!("quota")
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 7);
        let ok = slow_start(5, |_| async { Ok(()) }).await.ok();
        assert_eq!(ok, Some(5));
    }
}
