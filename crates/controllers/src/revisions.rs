//! ControllerRevisions: the template history of DaemonSets and StatefulSets. Each revision
//! stores the patch that restores its template (`{"spec":{"template":{…,"$patch":"replace"}}}`),
//! is named `<owner>-<hash>` and carries the `controller-revision-hash` label; pods say which
//! revision made them with the same label.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::{json, Value};

use crate::context::Context;
use crate::ownership::{claim, controller_ref, ignore_lost_race, ignore_not_found};

pub const HASH_LABEL: &str = "controller-revision-hash";

/// What a revision stores for `template`.
pub fn data_for(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

pub fn hash_of(data: &Value, collision_count: Option<i32>) -> String {
    crate::hashing::short_hash(data.to_string().as_bytes(), collision_count)
}

/// The template a revision restores (without the `$patch` directive).
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = rev.data.as_ref()?.0.get("spec")?.get("template")?.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

pub fn same_data(rev: &ControllerRevision, data: &Value) -> bool {
    rev.data.as_ref().is_some_and(|d| &d.0 == data)
}

pub fn hash_label(rev: &ControllerRevision) -> &str {
    rev.labels()
        .get(HASH_LABEL)
        .map(String::as_str)
        .unwrap_or_default()
}

/// The revisions `owner` controls, adopting orphans its selector matches; oldest first.
pub async fn claim_revisions<K>(
    ctx: &Context,
    owner: &K,
    selector: &LabelSelector,
) -> kube::Result<Vec<ControllerRevision>>
where
    K: Resource<DynamicType = ()>,
{
    let ns = owner.meta().namespace.clone().unwrap_or_default();
    let candidates: Vec<Arc<ControllerRevision>> = ctx
        .revisions
        .store()
        .state()
        .into_iter()
        .filter(|r| r.namespace().as_deref() == Some(&ns))
        .collect();
    let api: Api<ControllerRevision> = ctx.api(&ns);
    let owned = claim(
        &api,
        &controller_ref(owner),
        owner.meta().deletion_timestamp.is_some(),
        candidates,
        |r| peapod_apimachinery::selectors::workload_selects(selector, r.metadata.labels.as_ref()),
    )
    .await?;
    let mut revs: Vec<ControllerRevision> = owned.into_iter().map(|r| (*r).clone()).collect();
    revs.sort_by_key(|r| r.revision);
    Ok(revs)
}

/// Another revision already holds the name this template hashes to: the owner's
/// collisionCount must go up so the next hash differs.
#[derive(Debug)]
pub struct HashCollision(pub String);

impl std::fmt::Display for HashCollision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "controller revision {} exists with other data", self.0)
    }
}

impl std::error::Error for HashCollision {}

/// The revision for `template`: an existing one with the same data (renumbered to be the
/// newest if it was an older one, as after a rollback), or a new one.
pub async fn ensure<K>(
    ctx: &Context,
    owner: &K,
    template: &PodTemplateSpec,
    collision_count: Option<i32>,
    owned: &mut Vec<ControllerRevision>,
) -> anyhow::Result<ControllerRevision>
where
    K: Resource<DynamicType = ()>,
{
    let ns = owner.meta().namespace.clone().unwrap_or_default();
    let owner_name = owner.meta().name.clone().unwrap_or_default();
    let api: Api<ControllerRevision> = ctx.api(&ns);
    let data = data_for(template);
    let newest = owned.iter().map(|r| r.revision).max().unwrap_or(0);
    if let Some(i) = owned.iter().rposition(|r| same_data(r, &data)) {
        if owned[i].revision == newest {
            return Ok(owned[i].clone());
        }
        let body = json!({"metadata": {"resourceVersion": owned[i].metadata.resource_version},
            "revision": newest + 1});
        let Some(updated) = ignore_lost_race(
            api.patch(
                &owned[i].name_any(),
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await,
        )?
        else {
            anyhow::bail!(
                "controller revision {} changed while renumbering it",
                owned[i].name_any()
            );
        };
        owned[i] = updated.clone();
        return Ok(updated);
    }
    let hash = hash_of(&data, collision_count);
    let mut labels: BTreeMap<String, String> = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.clone());
    let name = format!("{owner_name}-{hash}");
    let rev = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns),
            labels: Some(labels),
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        data: Some(RawExtension(data.clone())),
        revision: newest + 1,
    };
    match api.create(&PostParams::default(), &rev).await {
        Ok(created) => {
            owned.push(created.clone());
            Ok(created)
        }
        Err(kube::Error::Api(e)) if e.code == 409 => {
            // Ours but not in the cache yet, or a true collision.
            let existing = api.get(&name).await?;
            let ours = crate::ownership::is_controlled_by(
                &existing.metadata,
                owner.meta().uid.as_deref().unwrap_or_default(),
            );
            if ours && same_data(&existing, &data) {
                owned.push(existing.clone());
                return Ok(existing);
            }
            Err(HashCollision(name).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes the oldest revisions beyond `limit` among those not named in `in_use` (the
/// current and update revisions and every revision a live pod runs).
pub async fn truncate_history(
    ctx: &Context,
    owned: &[ControllerRevision],
    in_use: &HashSet<String>,
    limit: i32,
) -> kube::Result<()> {
    let unused: Vec<&ControllerRevision> = owned
        .iter()
        .filter(|r| !in_use.contains(&r.name_any()))
        .collect();
    let excess = unused
        .len()
        .saturating_sub(usize::try_from(limit.max(0)).unwrap_or(0));
    for r in unused.into_iter().take(excess) {
        let api: Api<ControllerRevision> = ctx.api(&r.namespace().unwrap_or_default());
        ignore_not_found(api.delete(&r.name_any(), &DeleteParams::default()).await)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips_and_hash_follows_collisions() {
        let t = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "x".to_string())].into()),
                ..Default::default()
            }),
            spec: None,
        };
        let data = data_for(&t);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let rev = ControllerRevision {
            data: Some(RawExtension(data.clone())),
            ..Default::default()
        };
        assert_eq!(template_of(&rev), Some(t));
        assert!(same_data(&rev, &data));
        assert_ne!(hash_of(&data, None), hash_of(&data, Some(1)));
    }
}
