//! A projected volume like `kube-api-access-*`: a bound ServiceAccount token that the API
//! server accepts, the cluster CA from `kube-root-ca.crt`, and the namespace.

use base64::Engine;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use peapod_volumes::mounts::mounts_under;
use serde_json::{json, Value};

use crate::common::{mode, mount_fstype, read, visible_entries, Env};

/// A client that authenticates with `token` only and trusts `ca_pem`.
async fn token_client(env: &Env, token: &str, ca_pem: &str) -> anyhow::Result<kube::Client> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let kubeconfig: kube::config::Kubeconfig = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {
            "server": format!("https://{}", env.server.addr),
            "certificate-authority-data": b64.encode(ca_pem),
        }}],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "sa"}}],
        "current-context": "sa",
    }))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

fn jwt_claims(token: &str) -> anyhow::Result<Value> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

#[tokio::test]
async fn projected_token_ca_and_namespace() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let pod = env
        .create_pod(
            "sa-pod",
            json!([{"name": "kube-api-access-test", "projected": {"defaultMode": 0o644, "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]}}]),
            json!({}),
        )
        .await?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let planned = env.manager.planned_dirs(&pod);
    let paths = env.manager.prepare(&pod).await?;
    assert_eq!(
        planned, paths,
        "the agent makes the sandbox from the planned dirs"
    );
    let dir = &paths["kube-api-access-test"];
    assert!(dir.ends_with(format!(
        "pods/{uid}/volumes/kubernetes.io~projected/kube-api-access-test"
    )));
    assert_eq!(
        mount_fstype(dir).as_deref(),
        Some("tmpfs"),
        "projected volumes are tmpfs"
    );
    assert_eq!(visible_entries(dir), ["ca.crt", "namespace", "token"]);
    assert_eq!(read(&dir.join("namespace")), "default");
    assert_eq!(
        mode(&dir.join("token")),
        0o644,
        "token mode follows defaultMode"
    );

    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let root_ca = cms.get("kube-root-ca.crt").await?;
    let ca = read(&dir.join("ca.crt"));
    assert_eq!(
        Some(&ca),
        root_ca.data.as_ref().and_then(|d| d.get("ca.crt"))
    );

    let token = read(&dir.join("token"));
    let claims = jwt_claims(&token)?;
    assert_eq!(claims["sub"], "system:serviceaccount:default:default");
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "sa-pod");
    assert_eq!(claims["kubernetes.io"]["pod"]["uid"], uid.as_str());

    // The token authenticates against the server (through the CA from the volume) ...
    let as_pod = token_client(&env, &token, &ca).await?;
    let listed = Api::<ConfigMap>::namespaced(as_pod, "default")
        .list(&Default::default())
        .await;
    assert!(listed.is_ok(), "token rejected: {listed:?}");
    // ... and a forged one does not.
    let mut forged = token.clone();
    let last = if forged.ends_with('A') { 'B' } else { 'A' };
    forged.pop();
    forged.push(last);
    let forged_client = token_client(&env, &forged, &ca).await?;
    let denied = Api::<ConfigMap>::namespaced(forged_client, "default")
        .list(&Default::default())
        .await;
    match denied {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401),
        other => panic!("forged token was not rejected with 401: {other:?}"),
    }

    // Preparing again reuses the token until its renewal is due.
    env.manager.prepare(&pod).await?;
    assert_eq!(read(&dir.join("token")), token);

    env.manager.cleanup(&uid).await?;
    assert!(mounts_under(&env.data_dir)?.is_empty(), "no mounts left");
    assert!(!env.data_dir.join("pods").join(&uid).exists());
    Ok(())
}

#[tokio::test]
async fn token_for_missing_service_account_fails_clearly() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "ghost-sa"},
        "spec": {"serviceAccountName": "ghost", "automountServiceAccountToken": false,
            "containers": [{"name": "app", "image": "busybox"}],
            "volumes": [{"name": "tok", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token", "audience": "vault"}}]}}]}
    }))?;
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(env.client.clone(), "default");
    let pod = match api.create(&Default::default(), &pod).await {
        Ok(p) => p,
        // An API server that refuses pods of a missing ServiceAccount makes this moot.
        Err(kube::Error::Api(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let err = env
        .manager
        .prepare(&pod)
        .await
        .expect_err("no such ServiceAccount");
    assert!(
        err.message
            .starts_with(r#"MountVolume.SetUp failed for volume "tok" : failed to fetch token: "#),
        "{}",
        err.message
    );
    env.manager
        .cleanup(pod.metadata.uid.as_deref().unwrap_or_default())
        .await?;
    assert!(mounts_under(&env.data_dir)?.is_empty());
    Ok(())
}
