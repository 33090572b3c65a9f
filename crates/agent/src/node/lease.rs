//! The node Lease in `kube-node-lease`, renewed on every heartbeat.

use anyhow::Context;
use chrono::Utc;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::PostParams;
use kube::{Api, Client};

pub use peapod_apimachinery::well_known::NODE_LEASE_NAMESPACE as LEASE_NAMESPACE;
pub const LEASE_DURATION_SECONDS: i32 = 40;

/// Creates or renews the Lease `<node>`.
pub async fn renew(client: &Client, node: &str, node_uid: Option<&str>) -> anyhow::Result<()> {
    let api: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let now = peapod_apimachinery::timeconv::micro_time(Utc::now());
    match api.get_opt(node).await {
        Ok(Some(mut lease)) => {
            let spec = lease.spec.get_or_insert_with(Default::default);
            spec.renew_time = Some(now);
            spec.holder_identity = Some(node.to_string());
            spec.lease_duration_seconds = Some(LEASE_DURATION_SECONDS);
            api.replace(node, &PostParams::default(), &lease)
                .await
                .context("renewing the node Lease")?;
            Ok(())
        }
        Ok(None) => create(client, &api, node, node_uid, now).await,
        Err(kube::Error::Api(e)) if e.code == 404 => {
            create(client, &api, node, node_uid, now).await
        }
        Err(e) => Err(e).context("reading the node Lease"),
    }
}

async fn create(
    client: &Client,
    api: &Api<Lease>,
    node: &str,
    node_uid: Option<&str>,
    now: MicroTime,
) -> anyhow::Result<()> {
    ensure_namespace(client).await?;
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(node.to_string()),
            namespace: Some(LEASE_NAMESPACE.into()),
            owner_references: node_uid.map(|uid| {
                vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Node".into(),
                    name: node.to_string(),
                    uid: uid.to_string(),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(node.to_string()),
            lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
            renew_time: Some(now),
            ..Default::default()
        }),
    };
    match api.create(&PostParams::default(), &lease).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e).context("creating the node Lease"),
    }
}

async fn ensure_namespace(client: &Client) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    if api.get_opt(LEASE_NAMESPACE).await?.is_some() {
        return Ok(());
    }
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(LEASE_NAMESPACE.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e).context("creating namespace kube-node-lease"),
    }
}
