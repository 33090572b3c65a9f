//! ownerReferences: who controls an object, adopting matching orphans and releasing
//! objects that no longer match, with writes pinned to the resourceVersion that was judged.

use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, Patch, PatchParams};
use kube::Resource;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// Whether `meta` is controlled by the object with `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    controller_of(meta).is_some_and(|r| r.uid == uid)
}

/// The reference a controller puts on what it creates.
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    let meta = owner.meta();
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

pub fn uid_of(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or_default()
}

/// Sorts `candidates` (objects of one namespace) into those `owner` controls, adopting
/// matching orphans and releasing owned objects that no longer match. Objects another
/// controller owns, or that are being deleted, are left alone. A write that loses a race is
/// skipped: the change that won will trigger another reconcile.
pub async fn claim<C>(
    api: &Api<C>,
    owner: &OwnerReference,
    owner_deleting: bool,
    candidates: Vec<Arc<C>>,
    matches: impl Fn(&C) -> bool,
) -> kube::Result<Vec<Arc<C>>>
where
    C: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let mut owned = Vec::new();
    for c in candidates {
        let meta = c.meta();
        let name = meta.name.clone().unwrap_or_default();
        match controller_of(meta) {
            Some(r) if r.uid == owner.uid => {
                if matches(&c) || owner_deleting {
                    owned.push(c);
                } else {
                    let refs: Vec<_> = meta
                        .owner_references
                        .iter()
                        .flatten()
                        .filter(|r| r.uid != owner.uid)
                        .collect();
                    ignore_lost_race(patch_refs(api, &name, meta, list_or_null(&refs)).await)?;
                }
            }
            Some(_) => {}
            None => {
                if owner_deleting || meta.deletion_timestamp.is_some() || !matches(&c) {
                    continue;
                }
                let mut refs: Vec<OwnerReference> =
                    meta.owner_references.clone().unwrap_or_default();
                refs.push(owner.clone());
                if let Some(adopted) =
                    ignore_lost_race(patch_refs(api, &name, meta, json!(refs)).await)?
                {
                    owned.push(Arc::new(adopted));
                }
            }
        }
    }
    Ok(owned)
}

async fn patch_refs<C>(
    api: &Api<C>,
    name: &str,
    meta: &ObjectMeta,
    refs: serde_json::Value,
) -> kube::Result<C>
where
    C: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let body =
        json!({"metadata": {"ownerReferences": refs, "resourceVersion": meta.resource_version}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
}

/// A list for a merge patch, or `null` when empty: `null` removes the field, as Kubernetes
/// shows no empty `ownerReferences`/`finalizers` (an empty `[]` would be stored verbatim).
pub fn list_or_null<T: Serialize>(items: &[T]) -> serde_json::Value {
    if items.is_empty() {
        serde_json::Value::Null
    } else {
        json!(items)
    }
}

/// Conflicts and vanished objects are expected when racing other writers.
pub fn ignore_lost_race<T>(r: kube::Result<T>) -> kube::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Treats "already gone" as done (deletes racing other deleters).
pub fn ignore_not_found<T>(r: kube::Result<T>) -> kube::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}
