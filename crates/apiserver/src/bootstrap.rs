//! What must exist and keep existing: the system namespaces, a `default` ServiceAccount in
//! every namespace, and namespace deletion (empty a Terminating namespace, then remove it).

use std::time::Duration;

use peapod_store::EventType;
use serde_json::{json, Value};

use crate::object_meta;
use crate::object_store::decode;
use crate::registry::{self, ResourceInfo};
use crate::state::SharedState;
use crate::storage::{self, CreateRequest, DeleteOptions, ObjectRef};

pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

pub async fn ensure_system_namespaces(state: &SharedState) -> anyhow::Result<()> {
    for ns in SYSTEM_NAMESPACES {
        if state
            .objects
            .get(registry::core("namespaces"), None, ns)
            .await?
            .is_none()
        {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            match create(state, registry::core("namespaces"), None, obj).await {
                Ok(_) => {}
                Err(e) if e.code == 409 => {}
                Err(e) => anyhow::bail!("create namespace {ns}: {}", e.message),
            }
        }
        ensure_namespace_objects(state, ns).await;
    }
    Ok(())
}

/// What every namespace holds: the `default` ServiceAccount and the `kube-root-ca.crt`
/// ConfigMap that ServiceAccount token volumes project.
async fn ensure_namespace_objects(state: &SharedState, ns: &str) {
    ensure_default_service_account(state, ns).await;
    let cm = registry::core("configmaps");
    match state.objects.get(cm, Some(ns), "kube-root-ca.crt").await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let obj = peapod_admission::root_ca_configmap(ns, &state.ca_pem);
            match create(state, cm, Some(ns), obj).await {
                Ok(_) => {}
                Err(e) if e.code == 409 || e.code == 403 || e.code == 404 => {}
                Err(e) => {
                    tracing::warn!(namespace = ns, error = %e.message, "publish kube-root-ca.crt")
                }
            }
        }
        Err(e) => tracing::warn!(namespace = ns, error = %e.message, "read kube-root-ca.crt"),
    }
}

async fn ensure_default_service_account(state: &SharedState, ns: &str) {
    let sa = registry::core("serviceaccounts");
    if let Ok(Some(_)) = state.objects.get(sa, Some(ns), "default").await {
        return;
    }
    let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
    match create(state, sa, Some(ns), obj).await {
        Ok(_) => {}
        Err(e) if e.code == 409 || e.code == 403 || e.code == 404 => {}
        Err(e) => {
            tracing::warn!(namespace = ns, error = %e.message, "create default service account")
        }
    }
}

/// The `kubernetes` Service in `default`, through which in-cluster clients find the API
/// server (`KUBERNETES_SERVICE_HOST`), and its Endpoints listing this server. The Service is
/// made once and left alone afterwards (as upstream); the Endpoints follow this server's
/// address at every start.
pub async fn ensure_kubernetes_service(
    state: &SharedState,
    cluster_ip: std::net::Ipv4Addr,
    advertise: std::net::IpAddr,
    port: u16,
) {
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip.to_string(),
            "clusterIPs": [cluster_ip.to_string()],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "sessionAffinity": "None",
            "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": port}],
        },
    });
    create_if_missing(state, registry::core("services"), svc).await;
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{
            "addresses": [{"ip": advertise.to_string()}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }],
    });
    let ep = registry::core("endpoints");
    match state.objects.get(ep, Some("default"), "kubernetes").await {
        Ok(Some((current, rev))) => {
            if current.get("subsets") != endpoints.get("subsets") {
                let mut updated = current.clone();
                updated["subsets"] = endpoints["subsets"].clone();
                let target = ObjectRef {
                    res: ep,
                    namespace: Some("default"),
                    name: "kubernetes",
                };
                if let Err(e) = storage::overwrite(state, target, rev, &updated).await {
                    tracing::warn!(error = %e.message, "update the kubernetes Endpoints");
                }
            }
        }
        Ok(None) => create_if_missing(state, ep, endpoints).await,
        Err(e) => tracing::warn!(error = %e.message, "read the kubernetes Endpoints"),
    }
}

async fn create_if_missing(state: &SharedState, res: &'static ResourceInfo, obj: Value) {
    match create(state, res, Some("default"), obj).await {
        Ok(_) => {}
        Err(e) if e.code == 409 => {}
        Err(e) => tracing::warn!(resource = res.plural, error = %e.message, "create kubernetes"),
    }
}

/// Creates an object on the server's own behalf, through the same pipeline as a client's.
async fn create(
    state: &SharedState,
    res: &'static ResourceInfo,
    namespace: Option<&str>,
    object: Value,
) -> crate::errors::ApiResult<Value> {
    let req = CreateRequest {
        res,
        namespace,
        object,
        dry_run: false,
    };
    storage::create(state, req).await
}

/// Watches namespaces: new ones get a default ServiceAccount, deleted ones are emptied.
pub fn spawn_namespace_lifecycle(state: SharedState) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = namespace_loop(&state).await {
                tracing::warn!(error = %e, "namespace lifecycle restarting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn namespace_loop(state: &SharedState) -> anyhow::Result<()> {
    let nsres = registry::core("namespaces");
    let prefix = nsres.list_prefix(None);
    let list = state.objects.store.list(&prefix, None, 0).await?;
    for kv in &list.kvs {
        handle_namespace(state, decode(kv).map_err(|e| anyhow::anyhow!(e.message))?);
    }
    let mut w = state.objects.store.watch(&prefix, list.revision).await?;
    while let Some(ev) = w.next().await {
        let ev = ev?;
        if ev.kind == EventType::Put {
            handle_namespace(
                state,
                decode(&ev.kv).map_err(|e| anyhow::anyhow!(e.message))?,
            );
        }
    }
    Ok(())
}

fn handle_namespace(state: &SharedState, ns: Value) {
    let Some(name) = object_meta::name(&ns).map(String::from) else {
        return;
    };
    let state = state.clone();
    if object_meta::is_deleting(&ns) {
        tokio::spawn(async move { finalize_namespace(&state, &name).await });
    } else {
        tokio::spawn(async move { ensure_namespace_objects(&state, &name).await });
    }
}

/// Deletes everything in the namespace, then the namespace itself.
async fn finalize_namespace(state: &SharedState, ns: &str) {
    let opts = DeleteOptions {
        propagation: Some("Background".into()),
        ..Default::default()
    };
    for _ in 0..600 {
        let mut remaining = 0;
        for r in registry::all().iter().filter(|r| r.namespaced) {
            let Ok(list) = state
                .objects
                .store
                .list(&r.list_prefix(Some(ns)), None, 0)
                .await
            else {
                remaining += 1;
                continue;
            };
            for kv in list.kvs {
                remaining += 1;
                let Ok(obj) = decode(&kv) else { continue };
                if object_meta::is_deleting(&obj) {
                    continue;
                }
                let name = object_meta::name(&obj).unwrap_or_default().to_string();
                let target = ObjectRef {
                    res: r,
                    namespace: Some(ns),
                    name: &name,
                };
                let _ = storage::delete(state, target, &opts).await;
            }
        }
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if let Err(e) = storage::remove_namespace(state, ns).await {
        tracing::warn!(namespace = ns, error = %e.message, "remove namespace");
    }
}
