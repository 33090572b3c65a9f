//! Garbage collector over the ownerReferences graph of the kinds the controllers cache.
//! - Background: an object whose owners are all gone is deleted.
//! - Foreground: an owner being deleted with the `foregroundDeletion` finalizer has its
//!   dependents deleted; once no dependent with blockOwnerDeletion remains, the finalizer goes.
//! - Orphan: an owner being deleted with the `orphan` finalizer has its reference removed from
//!   every dependent, then the finalizer goes.
//!
//! Owner absence is confirmed with a live GET before anything is deleted (the cache may lag).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    PropagationPolicy,
};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::Resource;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::context::Context;
use crate::informer::{Change, Informer};
use crate::ownership::{ignore_lost_race, ignore_not_found};
use crate::runner::{self, ReconcileResult};

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";
const RESYNC: Duration = Duration::from_secs(600);

/// A cached object of any kind, seen through its metadata.
pub struct Node {
    pub api_version: String,
    pub kind: String,
    pub meta: ObjectMeta,
}

/// Read access to one informer's objects without knowing their type.
pub trait MetaSource: Send + Sync {
    fn for_each(&self, f: &mut dyn FnMut(&str, &str, &ObjectMeta));
}

impl<K> MetaSource for Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    fn for_each(&self, f: &mut dyn FnMut(&str, &str, &ObjectMeta)) {
        let (v, k) = (K::api_version(&()), K::kind(&()));
        for o in self.store().state() {
            f(&v, &k, o.meta());
        }
    }
}

fn sources(ctx: &Context) -> [&dyn MetaSource; 10] {
    [
        &*ctx.pods,
        &*ctx.replicasets,
        &*ctx.replicationcontrollers,
        &*ctx.deployments,
        &*ctx.jobs,
        &*ctx.cronjobs,
        &*ctx.daemonsets,
        &*ctx.statefulsets,
        &*ctx.revisions,
        &*ctx.nodes,
    ]
}

/// Cached objects that reference `uid` as an owner.
fn dependents(ctx: &Context, uid: &str) -> Vec<Node> {
    let mut out = Vec::new();
    for s in sources(ctx) {
        s.for_each(&mut |v, k, m| {
            if m.owner_references.iter().flatten().any(|r| r.uid == uid) {
                out.push(Node {
                    api_version: v.to_string(),
                    kind: k.to_string(),
                    meta: m.clone(),
                });
            }
        });
    }
    out
}

fn has_dependents(ctx: &Context, uid: &str) -> bool {
    let mut found = false;
    for s in sources(ctx) {
        s.for_each(&mut |_, _, m| {
            found |= m.owner_references.iter().flatten().any(|r| r.uid == uid)
        });
    }
    found
}

fn cached_uid(ctx: &Context, uid: &str) -> Option<ObjectMeta> {
    let mut found = None;
    for s in sources(ctx) {
        s.for_each(&mut |_, _, m| {
            if found.is_none() && m.uid.as_deref() == Some(uid) {
                found = Some(m.clone());
            }
        });
    }
    found
}

pub async fn run(ctx: Arc<Context>, workers: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(run_for(ctx.clone(), ctx.pods.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.replicasets.clone(), workers));
    tasks.spawn(run_for(
        ctx.clone(),
        ctx.replicationcontrollers.clone(),
        workers,
    ));
    tasks.spawn(run_for(ctx.clone(), ctx.deployments.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.jobs.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.cronjobs.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.daemonsets.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.statefulsets.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.revisions.clone(), workers));
    tasks.spawn(run_for(ctx.clone(), ctx.nodes.clone(), workers));
    while tasks.join_next().await.is_some() {}
}

async fn run_for<K>(ctx: Arc<Context>, informer: Arc<Informer<K>>, workers: usize)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let triggers = vec![
        related(&ctx.pods, &informer),
        related(&ctx.replicasets, &informer),
        related(&ctx.replicationcontrollers, &informer),
        related(&ctx.deployments, &informer),
        related(&ctx.jobs, &informer),
        related(&ctx.cronjobs, &informer),
        related(&ctx.daemonsets, &informer),
        related(&ctx.statefulsets, &informer),
        related(&ctx.revisions, &informer),
        related(&ctx.nodes, &informer),
    ];
    runner::run(
        "garbage-collector",
        &informer,
        triggers,
        workers,
        ctx.clone(),
        reconcile::<K>,
    )
    .await;
}

/// When an object is deleted, or starts being deleted, its cached dependents of kind `K`
/// need a look (their owner may be gone); when one is deleted, its owners of kind `K` do
/// too (an owner may be waiting for its dependents).
fn related<C, K>(
    source: &Informer<C>,
    target: &Arc<Informer<K>>,
) -> BoxStream<'static, ObjectRef<K>>
where
    C: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let target = target.clone();
    runner::map_changes(source.subscribe(), move |c: &Change<C>| {
        let meta = c.object().meta();
        let gone = matches!(c, Change::Deleted(_));
        if !gone && meta.deletion_timestamp.is_none() {
            return vec![];
        }
        let uid = meta.uid.clone().unwrap_or_default();
        let mut out = Vec::new();
        for o in target.store().state() {
            let m = o.meta();
            let depends = m.owner_references.iter().flatten().any(|r| r.uid == uid);
            let owns = gone
                && meta
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| Some(&r.uid) == m.uid.as_ref());
            if depends || owns {
                out.push(ObjectRef::from_obj(&*o));
            }
        }
        out
    })
}

async fn reconcile<K>(obj: Arc<K>, ctx: Arc<Context>) -> ReconcileResult
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let node = Node {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        meta: obj.meta().clone(),
    };
    let finalizers = node.meta.finalizers.clone().unwrap_or_default();
    if node.meta.deletion_timestamp.is_some() {
        if finalizers.iter().any(|f| f == ORPHAN) {
            orphan_dependents(&ctx, &node).await?;
            return Ok(Action::requeue(RESYNC));
        }
        if finalizers.iter().any(|f| f == FOREGROUND) {
            return delete_dependents_first(&ctx, &node).await;
        }
    }
    collect_if_ownerless(&ctx, &node).await?;
    Ok(Action::requeue(RESYNC))
}

fn api_for(ctx: &Context, api_version: &str, kind: &str, ns: Option<&str>) -> Api<DynamicObject> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let cluster_scoped = matches!(
        (group, kind),
        ("", "Node") | ("", "Namespace") | ("", "PersistentVolume")
    );
    match ns {
        Some(ns) if !cluster_scoped => Api::namespaced_with(ctx.client.clone(), ns, &ar),
        _ => Api::all_with(ctx.client.clone(), &ar),
    }
}

fn node_api(ctx: &Context, n: &Node) -> Api<DynamicObject> {
    api_for(ctx, &n.api_version, &n.kind, n.meta.namespace.as_deref())
}

/// Removes `finalizer` from the object, pinned to the version we judged.
async fn remove_finalizer(ctx: &Context, n: &Node, finalizer: &str) -> kube::Result<()> {
    let rest: Vec<_> = n
        .meta
        .finalizers
        .iter()
        .flatten()
        .filter(|f| *f != finalizer)
        .collect();
    let rest = crate::ownership::list_or_null(&rest);
    let body =
        json!({"metadata": {"finalizers": rest, "resourceVersion": n.meta.resource_version}});
    let name = n.meta.name.clone().unwrap_or_default();
    node_api(ctx, n)
        .patch(&name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .map(|_| ())
}

async fn set_owner_refs(ctx: &Context, n: &Node, refs: Vec<&OwnerReference>) -> kube::Result<()> {
    let refs = crate::ownership::list_or_null(&refs);
    let body =
        json!({"metadata": {"ownerReferences": refs, "resourceVersion": n.meta.resource_version}});
    let name = n.meta.name.clone().unwrap_or_default();
    node_api(ctx, n)
        .patch(&name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .map(|_| ())
}

async fn orphan_dependents(ctx: &Context, owner: &Node) -> ReconcileResult {
    let uid = owner.meta.uid.clone().unwrap_or_default();
    for d in dependents(ctx, &uid) {
        let refs: Vec<_> = d
            .meta
            .owner_references
            .iter()
            .flatten()
            .filter(|r| r.uid != uid)
            .collect();
        // A conflict means the dependent changed: fail so this is retried on fresh state.
        ignore_not_found(set_owner_refs(ctx, &d, refs).await)?;
    }
    ignore_not_found(remove_finalizer(ctx, owner, ORPHAN).await)?;
    Ok(Action::requeue(RESYNC))
}

async fn delete_dependents_first(ctx: &Context, owner: &Node) -> ReconcileResult {
    let uid = owner.meta.uid.clone().unwrap_or_default();
    let deps = dependents(ctx, &uid);
    let mut blocking = 0;
    for d in &deps {
        let blocks = d
            .meta
            .owner_references
            .iter()
            .flatten()
            .any(|r| r.uid == uid && r.block_owner_deletion == Some(true));
        if blocks {
            blocking += 1;
        }
        if d.meta.deletion_timestamp.is_some() {
            continue;
        }
        // Dependents with dependents of their own are deleted in the foreground too, so the
        // owner goes last; leaves are simply deleted.
        let policy = if has_dependents(ctx, d.meta.uid.as_deref().unwrap_or_default()) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        delete_node(ctx, d, policy).await?;
    }
    if blocking == 0 {
        ignore_not_found(remove_finalizer(ctx, owner, FOREGROUND).await)?;
        return Ok(Action::requeue(RESYNC));
    }
    // Deleted dependents trigger this again; the requeue covers a missed event.
    Ok(Action::requeue(Duration::from_secs(5)))
}

async fn delete_node(ctx: &Context, n: &Node, policy: PropagationPolicy) -> kube::Result<()> {
    let name = n.meta.name.clone().unwrap_or_default();
    let dp = DeleteParams {
        propagation_policy: Some(policy),
        preconditions: Some(kube::api::Preconditions {
            uid: n.meta.uid.clone(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match node_api(ctx, n).delete(&name, &dp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

enum OwnerState {
    Present,
    /// Being deleted in the foreground: dependents that block it should go first.
    WaitingForDependents,
    Absent,
}

async fn owner_state(
    ctx: &Context,
    dependent: &Node,
    r: &OwnerReference,
) -> kube::Result<OwnerState> {
    let judge = |m: &ObjectMeta| {
        let fg = m.deletion_timestamp.is_some()
            && m.finalizers.iter().flatten().any(|f| f == FOREGROUND);
        if fg {
            OwnerState::WaitingForDependents
        } else {
            OwnerState::Present
        }
    };
    if let Some(m) = cached_uid(ctx, &r.uid) {
        return Ok(judge(&m));
    }
    let api = api_for(
        ctx,
        &r.api_version,
        &r.kind,
        dependent.meta.namespace.as_deref(),
    );
    match api.get_opt(&r.name).await {
        Ok(Some(o)) if o.metadata.uid.as_deref() == Some(r.uid.as_str()) => Ok(judge(&o.metadata)),
        Ok(_) => Ok(OwnerState::Absent),
        // An owner kind the server does not serve can never exist.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(OwnerState::Absent),
        Err(e) => Err(e),
    }
}

async fn collect_if_ownerless(ctx: &Context, n: &Node) -> Result<(), runner::ReconcileError> {
    let refs = n.meta.owner_references.clone().unwrap_or_default();
    if refs.is_empty() || n.meta.deletion_timestamp.is_some() {
        return Ok(());
    }
    let mut solid = Vec::new();
    let mut dangling = Vec::new();
    let mut waiting = Vec::new();
    for r in &refs {
        match owner_state(ctx, n, r).await? {
            OwnerState::Present => solid.push(r),
            OwnerState::WaitingForDependents => waiting.push(r),
            OwnerState::Absent => dangling.push(r),
        }
    }
    if solid.is_empty()
        && !waiting.is_empty()
        && waiting.iter().any(|r| r.block_owner_deletion == Some(true))
    {
        delete_node(ctx, n, PropagationPolicy::Foreground).await?;
    } else if solid.is_empty() && waiting.is_empty() {
        delete_node(ctx, n, PropagationPolicy::Background).await?;
    } else if !dangling.is_empty() {
        let keep: Vec<_> = refs
            .iter()
            .filter(|r| !dangling.iter().any(|d| d.uid == r.uid))
            .collect();
        ignore_lost_race(set_owner_refs(ctx, n, keep).await)?;
    }
    Ok(())
}
