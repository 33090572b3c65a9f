mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn statefulset(name: &str, replicas: i32, policy: &str) -> anyhow::Result<StatefulSet> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name, "busybox:1"),
        },
    }))?)
}

fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(name).collect()
}

fn label<'a>(p: &'a Pod, k: &str) -> &'a str {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(k))
        .map(String::as_str)
        .unwrap_or_default()
}

async fn wait_names(env: &Env, app: &str, want: &[&str]) -> anyhow::Result<Vec<Pod>> {
    let sel = format!("app={app}");
    wait_for(&format!("pods {want:?}"), 20, || async {
        let pods = live_pods(&env.client, "default", &sel).await?;
        Ok((names(&pods) == want).then_some(pods))
    })
    .await
}

/// The set of pods stays at `want` for a while (nothing is created early).
async fn stays(env: &Env, app: &str, want: &[&str]) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pods = live_pods(&env.client, "default", &format!("app={app}")).await?;
    assert_eq!(names(&pods), want);
    Ok(())
}

#[tokio::test]
async fn ordered_ready_creation_scale_down_and_partitioned_update() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<StatefulSet> = Api::namespaced(env.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &statefulset("web", 3, "OrderedReady")?,
    )
    .await?;

    let pods = wait_names(&env, "web", &["web-0"]).await?;
    let p0 = &pods[0];
    assert_eq!(label(p0, "statefulset.kubernetes.io/pod-name"), "web-0");
    assert_eq!(label(p0, "apps.kubernetes.io/pod-index"), "0");
    assert!(label(p0, "controller-revision-hash").starts_with("web-"));
    let spec = p0.spec.clone().unwrap_or_default();
    assert_eq!(spec.hostname.as_deref(), Some("web-0"));
    assert_eq!(spec.subdomain.as_deref(), Some("web"));
    stays(&env, "web", &["web-0"]).await?;

    mark_ready(&env.client, "default", "web-0").await?;
    wait_names(&env, "web", &["web-0", "web-1"]).await?;
    stays(&env, "web", &["web-0", "web-1"]).await?;
    mark_ready(&env.client, "default", "web-1").await?;
    wait_names(&env, "web", &["web-0", "web-1", "web-2"]).await?;
    mark_ready(&env.client, "default", "web-2").await?;
    let first_rev = wait_for("status", 20, || async {
        let s = api.get("web").await?.status.unwrap_or_default();
        let ok = s.replicas == 3
            && s.ready_replicas == Some(3)
            && s.available_replicas == Some(3)
            && s.current_replicas == Some(3)
            && s.updated_replicas == Some(3)
            && s.current_revision.is_some()
            && s.current_revision == s.update_revision;
        Ok(ok.then_some(s.current_revision.unwrap_or_default()))
    })
    .await?;

    // Rolling update with partition 1: web-2 then web-1 move to the new revision, web-0 stays.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}},
        }})),
    )
    .await?;
    let order = std::cell::RefCell::new(Vec::new());
    let status = wait_for("partitioned rollout", 40, || async {
        ready_all(&env.client, "default", "app=web").await?;
        for p in live_pods(&env.client, "default", "app=web").await? {
            let entry = name(&p);
            let mut order = order.borrow_mut();
            if label(&p, "controller-revision-hash") != first_rev && !order.contains(&entry) {
                order.push(entry);
            }
        }
        let s = api.get("web").await?.status.unwrap_or_default();
        let ok = s.updated_replicas == Some(2)
            && s.current_replicas == Some(1)
            && s.ready_replicas == Some(3)
            && s.update_revision.as_deref() != Some(first_rev.as_str());
        Ok(ok.then_some(s))
    })
    .await?;
    assert_eq!(
        *order.borrow(),
        ["web-2", "web-1"],
        "updated from the highest ordinal down"
    );
    assert_eq!(status.current_revision.as_deref(), Some(first_rev.as_str()));
    stays(&env, "web", &["web-0", "web-1", "web-2"]).await?;
    let web0 = Api::<Pod>::namespaced(env.client.clone(), "default")
        .get("web-0")
        .await?;
    assert_eq!(label(&web0, "controller-revision-hash"), first_rev);

    // Scale down to 1: web-2 goes first, then web-1.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"replicas": 1}})),
    )
    .await?;
    let seen = std::cell::RefCell::new(Vec::<Vec<String>>::new());
    wait_for("scaled down", 20, || async {
        let now = names(&live_pods(&env.client, "default", "app=web").await?);
        let mut seen = seen.borrow_mut();
        if seen.last() != Some(&now) {
            seen.push(now.clone());
        }
        Ok((now == ["web-0"]).then_some(()))
    })
    .await?;
    let seen = seen.into_inner();
    for s in &seen {
        assert!(
            !s.contains(&"web-2".to_string()) || s.contains(&"web-1".to_string()),
            "web-1 went before web-2: {seen:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn parallel_creates_all_at_once() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<StatefulSet> = Api::namespaced(env.client.clone(), "default");
    api.create(&PostParams::default(), &statefulset("par", 3, "Parallel")?)
        .await?;
    // None is ready, yet all three exist.
    wait_names(&env, "par", &["par-0", "par-1", "par-2"]).await?;
    api.patch(
        "par",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"replicas": 1}})),
    )
    .await?;
    wait_names(&env, "par", &["par-0"]).await?;
    Ok(())
}

#[tokio::test]
async fn a_deleted_pod_comes_back_with_the_same_name() -> anyhow::Result<()> {
    let env = start().await?;
    let api: Api<StatefulSet> = Api::namespaced(env.client.clone(), "default");
    api.create(&PostParams::default(), &statefulset("db", 2, "Parallel")?)
        .await?;
    let pods = wait_names(&env, "db", &["db-0", "db-1"]).await?;
    let old_uid = pods[1].metadata.uid.clone();
    Api::<Pod>::namespaced(env.client.clone(), "default")
        .delete("db-1", &Default::default())
        .await?;
    wait_for("db-1 recreated", 20, || async {
        let pods = live_pods(&env.client, "default", "app=db").await?;
        Ok(pods
            .iter()
            .any(|p| name(p) == "db-1" && p.metadata.uid != old_uid)
            .then_some(()))
    })
    .await?;
    Ok(())
}
