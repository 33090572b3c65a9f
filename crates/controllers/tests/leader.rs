mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, PostParams};
use peapod_controllers::{ControllerConfig, LeaderConfig};

#[tokio::test]
async fn two_managers_one_leader_no_double_work() -> anyhow::Result<()> {
    let (_server, _dir, client) = server().await?;
    let mut tasks = Vec::new();
    for id in ["manager-a", "manager-b"] {
        let cfg = ControllerConfig {
            workers: 2,
            leader: LeaderConfig {
                identity: id.into(),
                retry_period: Duration::from_millis(200),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            peapod_controllers::run(c, cfg).await
        }));
    }
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    let holder = wait_for("lease", 20, || async {
        let l = leases.get_opt("peapod-controller-manager").await?;
        Ok(l.and_then(|l| l.spec).and_then(|s| s.holder_identity))
    })
    .await?;
    assert!(holder == "manager-a" || holder == "manager-b");

    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some("one".into()),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(3),
            min_ready_seconds: Some(0),
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", "one")])),
                ..Default::default()
            },
            template: Some(template("one", "busybox")),
        }),
        status: None,
    };
    Api::<ReplicaSet>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &rs)
        .await?;
    wait_for("3 pods", 20, || async {
        Ok((live_pods(&client, "default", "app=one").await?.len() == 3).then_some(()))
    })
    .await?;
    // Only the leader acts: after a while there are still exactly 3 pods.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(live_pods(&client, "default", "app=one").await?.len(), 3);
    let still = leases
        .get("peapod-controller-manager")
        .await?
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(
        still.as_deref(),
        Some(holder.as_str()),
        "the leader kept its lease"
    );
    for t in tasks {
        t.abort();
    }
    Ok(())
}
