//! The API server driven by kube-rs, and its durability under `kill -9`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestServer;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;

async fn client(s: &TestServer) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::read_from(s.kubeconfig()).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name}, "data": {"k": name}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_crud_pagination_and_watcher() {
    let s = TestServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let mut events = watcher(cms.clone(), watcher::Config::default()).boxed();
    // Let the watcher finish its initial list before anything changes.
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
            Ok(Ok(Some(watcher::Event::InitDone))) => break,
            Ok(Ok(Some(_))) => {}
            other => panic!("watch ended: {other:?}"),
        }
    }
    for i in 0..25 {
        cms.create(&PostParams::default(), &cm(&format!("c{i:02}")))
            .await
            .unwrap();
    }
    let page = cms.list(&ListParams::default().limit(10)).await.unwrap();
    assert_eq!(page.items.len(), 10);
    let token = page.metadata.continue_.clone().expect("continue token");
    let rest = cms
        .list(&ListParams::default().limit(100).continue_token(&token))
        .await
        .unwrap();
    // The rest: 15 of ours plus the namespace's kube-root-ca.crt.
    let names: Vec<String> = rest
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    assert_eq!(names.len(), 16, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with('c')).count(), 15);
    assert!(rest.metadata.continue_.is_none());
    let got = cms.get("c03").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "c03");
    cms.delete("c03", &DeleteParams::default()).await.unwrap();
    let err = cms.get("c03").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
    // The watcher sees the creates and the delete.
    let mut seen_delete = false;
    let mut applied = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen_delete && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), events.try_next()).await {
            Ok(Ok(Some(watcher::Event::Apply(_)))) => applied += 1,
            Ok(Ok(Some(watcher::Event::Delete(o)))) => {
                seen_delete = o.metadata.name.as_deref() == Some("c03")
            }
            Ok(Ok(Some(_))) => {}
            other => panic!("watch ended: {other:?}"),
        }
    }
    assert!(seen_delete && applied >= 25, "applied {applied}");
    // Typed pods round-trip with server defaults.
    let pods: Api<Pod> = Api::namespaced(c, "default");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "gen-"},
        "spec": {"containers": [{"name": "a", "image": "busybox"}]}
    }))
    .unwrap();
    let created = pods.create(&PostParams::default(), &pod).await.unwrap();
    let name = created.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    assert_eq!(
        created.spec.unwrap().containers[0]
            .image_pull_policy
            .as_deref(),
        Some("Always")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_creates_survive_kill_9() {
    let mut s = TestServer::start();
    let c = client(&s).await;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("t{t}-{i}");
                match api.create(&PostParams::default(), &cm(&name)).await {
                    Ok(_) => acked.lock().unwrap().push(name),
                    Err(_) => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.kill9();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "too few creates before the kill: {}",
        acked.len()
    );
    s.restart();
    let c = client(&s).await;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    let names: std::collections::HashSet<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|n| !names.contains(*n)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged creates lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}
