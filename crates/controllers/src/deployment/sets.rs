//! A Deployment's ReplicaSets: claiming them, finding or creating the new one (named
//! `<deployment>-<pod-template-hash>`), keeping revisions in order, scaling one, and
//! trimming history.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::ResourceExt;
use serde_json::json;

use super::util::*;
use crate::context::Context;
use crate::ownership::{claim, controller_ref, ignore_lost_race, ignore_not_found};
use peapod_apimachinery::selectors;

pub struct Sets {
    pub new: Option<ReplicaSet>,
    pub old: Vec<ReplicaSet>,
}

impl Sets {
    pub fn all(&self) -> Vec<&ReplicaSet> {
        self.old.iter().chain(self.new.iter()).collect()
    }
}

pub async fn claim_replicasets(ctx: &Context, d: &Deployment) -> kube::Result<Vec<ReplicaSet>> {
    let ns = d.namespace().unwrap_or_default();
    let Some(spec) = d.spec.as_ref() else {
        return Ok(vec![]);
    };
    let candidates: Vec<Arc<ReplicaSet>> = ctx
        .replicasets
        .store()
        .state()
        .into_iter()
        .filter(|rs| rs.namespace().as_deref() == Some(&ns))
        .collect();
    let api: Api<ReplicaSet> = ctx.api(&ns);
    let owned = claim(
        &api,
        &controller_ref(d),
        d.metadata.deletion_timestamp.is_some(),
        candidates,
        |rs| selectors::workload_selects(&spec.selector, rs.metadata.labels.as_ref()),
    )
    .await?;
    Ok(owned.into_iter().map(|rs| (*rs).clone()).collect())
}

fn is_new_for(rs: &ReplicaSet, d: &Deployment, hash: &str) -> bool {
    let Some(spec) = d.spec.as_ref() else {
        return false;
    };
    rs.labels().get(HASH_LABEL).map(String::as_str) == Some(hash)
        || same_template(rs, &spec.template)
}

/// Splits the owned ReplicaSets into the one running the current template and the rest;
/// gives the new one the next revision; creates it if asked and missing.
pub async fn get_all(
    ctx: &Context,
    d: &Deployment,
    mut owned: Vec<ReplicaSet>,
    create: bool,
) -> anyhow::Result<Sets> {
    let collisions = d.status.as_ref().and_then(|s| s.collision_count);
    let Some(spec) = d.spec.as_ref() else {
        anyhow::bail!("deployment has no spec")
    };
    let hash = template_hash(&spec.template, collisions);
    owned.sort_by_key(|rs| {
        rs.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
    });
    let new_idx = owned.iter().position(|rs| is_new_for(rs, d, &hash));
    let new = new_idx.map(|i| owned.remove(i));
    let old = owned;
    let max_old = old.iter().map(rs_revision).max().unwrap_or(0);
    let revision = max_old + 1;
    let ns = d.namespace().unwrap_or_default();
    let api: Api<ReplicaSet> = ctx.api(&ns);

    let new = match new {
        Some(rs) if rs_revision(&rs) < revision => {
            // A template seen before (a rollback): it becomes the newest revision again.
            let mut history: Vec<String> = rs
                .annotations()
                .get(REVISION_HISTORY)
                .map(|h| h.split(',').map(String::from).collect())
                .unwrap_or_default();
            let prev = rs_revision(&rs);
            if prev > 0 {
                history.push(prev.to_string());
            }
            let body = json!({"metadata": {
                "resourceVersion": rs.metadata.resource_version,
                "annotations": {REVISION: revision.to_string(), REVISION_HISTORY: if history.is_empty() { None } else { Some(history.join(",")) }},
            }});
            let Some(updated) = ignore_lost_race(
                api.patch(
                    &rs.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&body),
                )
                .await,
            )?
            else {
                anyhow::bail!(
                    "replicaset {} changed while updating its revision",
                    rs.name_any()
                );
            };
            Some(updated)
        }
        Some(rs) => Some(rs),
        None if create => Some(create_new(ctx, d, &hash, revision, &old).await?),
        None => None,
    };
    if let Some(rs) = &new {
        sync_deployment_revision(ctx, d, rs_revision(rs)).await?;
    }
    Ok(Sets { new, old })
}

async fn sync_deployment_revision(
    ctx: &Context,
    d: &Deployment,
    revision: i64,
) -> kube::Result<()> {
    if revision_of(d.metadata.annotations.as_ref()) == revision {
        return Ok(());
    }
    let api: Api<Deployment> = ctx.api(&d.namespace().unwrap_or_default());
    let body = json!({"metadata": {"annotations": {REVISION: revision.to_string()}}});
    ignore_not_found(
        api.patch(&d.name_any(), &PatchParams::default(), &Patch::Merge(&body))
            .await,
    )?;
    Ok(())
}

/// Deployment annotations a ReplicaSet does not inherit.
fn inherited_annotations(d: &Deployment) -> BTreeMap<String, String> {
    d.annotations()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                REVISION | REVISION_HISTORY | DESIRED_REPLICAS | MAX_REPLICAS
            ) && k.as_str() != "kubectl.kubernetes.io/last-applied-configuration"
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn create_new(
    ctx: &Context,
    d: &Deployment,
    hash: &str,
    revision: i64,
    old: &[ReplicaSet],
) -> anyhow::Result<ReplicaSet> {
    let Some(spec) = d.spec.as_ref() else {
        anyhow::bail!("deployment has no spec")
    };
    let ns = d.namespace().unwrap_or_default();
    let want = replicas(d);
    let (surge, _) = fenceposts(d).map_err(anyhow::Error::msg)?;
    let start = if is_recreate(d) {
        want
    } else {
        let current: i32 = old.iter().map(rs_replicas).sum();
        (want + surge - current).clamp(0, want)
    };
    let mut template = spec.template.clone();
    let tmeta = template.metadata.get_or_insert_with(Default::default);
    tmeta
        .labels
        .get_or_insert_with(Default::default)
        .insert(HASH_LABEL.into(), hash.into());
    let mut selector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(Default::default)
        .insert(HASH_LABEL.into(), hash.into());
    let mut annotations = inherited_annotations(d);
    annotations.insert(REVISION.into(), revision.to_string());
    annotations.insert(DESIRED_REPLICAS.into(), want.to_string());
    annotations.insert(MAX_REPLICAS.into(), (want + surge).to_string());
    let name = format!("{}-{hash}", d.name_any());
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(d)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(start),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    };
    let api: Api<ReplicaSet> = ctx.api(&ns);
    match api.create(&PostParams::default(), &rs).await {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let existing = api.get(&name).await?;
            let ours = crate::ownership::is_controlled_by(
                &existing.metadata,
                d.metadata.uid.as_deref().unwrap_or_default(),
            );
            if ours && is_new_for(&existing, d, hash) {
                return Ok(existing);
            }
            // A different template hashed to the same name: change the hash input.
            let count = d
                .status
                .as_ref()
                .and_then(|s| s.collision_count)
                .unwrap_or(0)
                + 1;
            let dapi: Api<Deployment> = ctx.api(&ns);
            let body = json!({"status": {"collisionCount": count}});
            dapi.patch_status(&d.name_any(), &PatchParams::default(), &Patch::Merge(&body))
                .await?;
            anyhow::bail!("replicaset name {name} collides with another template; retrying with collisionCount {count}")
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets a ReplicaSet's size and the replica annotations. Returns whether anything changed.
pub async fn scale_rs(
    ctx: &Context,
    d: &Deployment,
    rs: &mut ReplicaSet,
    to: i32,
) -> anyhow::Result<bool> {
    let (surge, _) = fenceposts(d).map_err(anyhow::Error::msg)?;
    let want = replicas(d);
    let desired = want.to_string();
    let max = (want + surge).to_string();
    let a = rs.annotations();
    let same = rs_replicas(rs) == to
        && a.get(DESIRED_REPLICAS) == Some(&desired)
        && a.get(MAX_REPLICAS) == Some(&max);
    if same {
        return Ok(false);
    }
    let body = json!({
        "metadata": {"resourceVersion": rs.metadata.resource_version, "annotations": {DESIRED_REPLICAS: desired, MAX_REPLICAS: max}},
        "spec": {"replicas": to},
    });
    let api: Api<ReplicaSet> = ctx.api(&rs.namespace().unwrap_or_default());
    *rs = api
        .patch(
            &rs.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await?;
    Ok(true)
}

/// Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit (default 10).
pub async fn cleanup(ctx: &Context, d: &Deployment, old: &[ReplicaSet]) -> anyhow::Result<()> {
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let mut idle: Vec<&ReplicaSet> = old
        .iter()
        .filter(|rs| {
            rs_replicas(rs) == 0
                && rs.status.as_ref().map(|s| s.replicas).unwrap_or(0) == 0
                && rs.metadata.deletion_timestamp.is_none()
        })
        .collect();
    if idle.len() <= limit {
        return Ok(());
    }
    idle.sort_by_key(|rs| rs_revision(rs));
    let api: Api<ReplicaSet> = ctx.api(&d.namespace().unwrap_or_default());
    for rs in &idle[..idle.len() - limit] {
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: rs.metadata.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        ignore_lost_race(api.delete(&rs.name_any(), &dp).await)?;
    }
    Ok(())
}
