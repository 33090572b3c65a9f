//! configMap and secret volumes: items, modes, tmpfs, optional and missing sources, cleanup.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::ByteString;
use kube::api::PostParams;
use kube::Api;
use peapod_volumes::mounts::mounts_under;
use serde_json::json;

use crate::common::{mode, mount_fstype, read, visible_entries, Env};

#[tokio::test]
async fn config_map_items_modes_and_layout() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let cm = ConfigMap {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("cfg".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([
            ("game.properties".to_string(), "lives=3\n".to_string()),
            ("ui.properties".to_string(), "color=blue\n".to_string()),
            ("unused".to_string(), "x".to_string()),
        ])),
        binary_data: Some(BTreeMap::from([(
            "blob".to_string(),
            ByteString(vec![0xde, 0xad]),
        )])),
        ..Default::default()
    };
    cms.create(&PostParams::default(), &cm).await?;
    let pod = env
        .create_pod(
            "cfg-pod",
            json!([
                {"name": "some", "configMap": {"name": "cfg", "defaultMode": 0o640, "items": [
                    {"key": "game.properties", "path": "conf/game"},
                    {"key": "ui.properties", "path": "ui", "mode": 0o600},
                    {"key": "blob", "path": "blob.bin"}
                ]}},
                {"name": "all", "configMap": {"name": "cfg"}},
                {"name": "scratch", "emptyDir": {}}
            ]),
            json!({"app": "cfg"}),
        )
        .await?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let planned = env.manager.planned_dirs(&pod);
    let paths = env.manager.prepare(&pod).await?;
    assert_eq!(planned, paths, "planned dirs are where prepare writes");

    assert_eq!(
        paths.len(),
        2,
        "only API-projected volumes are returned: {paths:?}"
    );
    let some = &paths["some"];
    let expected = env
        .data_dir
        .join(format!("pods/{uid}/volumes/kubernetes.io~configmap/some"));
    assert_eq!(some, &expected);
    assert_eq!(visible_entries(some), ["blob.bin", "conf", "ui"]);
    assert_eq!(read(&some.join("conf/game")), "lives=3\n");
    assert_eq!(mode(&some.join("conf/game")), 0o640);
    assert_eq!(mode(&some.join("ui")), 0o600);
    assert_eq!(std::fs::read(some.join("blob.bin"))?, vec![0xde, 0xad]);
    assert_eq!(
        std::fs::read_link(some.join("ui"))?,
        std::path::Path::new("..data/ui")
    );
    assert!(
        mount_fstype(some).is_none(),
        "configMap volumes live on disk"
    );

    let all = &paths["all"];
    assert_eq!(
        visible_entries(all),
        ["blob", "game.properties", "ui.properties", "unused"]
    );
    assert_eq!(mode(&all.join("unused")), 0o644, "default mode");

    // Preparing again is idempotent.
    let again = env.manager.prepare(&pod).await?;
    assert_eq!(again, paths);

    env.manager.cleanup(&uid).await?;
    assert!(!env.data_dir.join("pods").join(&uid).exists());
    Ok(())
}

#[tokio::test]
async fn secret_volume_is_decoded_on_tmpfs_and_cleaned_up() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "default");
    // The seed's example: base64 data in YAML (admin / 123456).
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "user"},
        "type": "Opaque",
        "data": {"username": "YWRtaW4=", "password": "MTIzNDU2"}
    }))?;
    secrets.create(&PostParams::default(), &secret).await?;
    let pod = env
        .create_pod(
            "secret-pod",
            json!([{"name": "creds", "secret": {"secretName": "user", "defaultMode": 0o400}}]),
            json!({}),
        )
        .await?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let paths = env.manager.prepare(&pod).await?;
    let dir = &paths["creds"];
    assert!(dir.ends_with(format!("pods/{uid}/volumes/kubernetes.io~secret/creds")));
    assert_eq!(
        mount_fstype(dir).as_deref(),
        Some("tmpfs"),
        "secret volume must be a tmpfs"
    );
    assert_eq!(read(&dir.join("username")), "admin");
    assert_eq!(read(&dir.join("password")), "123456");
    assert_eq!(mode(&dir.join("password")), 0o400);
    // Preparing again must not stack a second tmpfs.
    env.manager.prepare(&pod).await?;
    assert_eq!(mounts_under(dir)?.len(), 1);

    env.manager.cleanup(&uid).await?;
    assert!(mounts_under(&env.data_dir)?.is_empty(), "no mounts left");
    assert!(!env.data_dir.join("pods").join(&uid).exists());
    // Cleaning up twice (or an unknown pod) is fine.
    env.manager.cleanup(&uid).await?;
    assert!(
        env.manager.cleanup("../escape").await.is_err(),
        "UID must be one path element"
    );
    Ok(())
}

#[tokio::test]
async fn fs_group_owns_files() -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let env = Env::start().await?;
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "grp"}, "data": {"k": "v"}}))?;
    cms.create(&PostParams::default(), &cm).await?;
    let mut pod_json = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "grp-pod"},
        "spec": {"automountServiceAccountToken": false, "securityContext": {"fsGroup": 2345},
            "containers": [{"name": "app", "image": "busybox"}],
            "volumes": [{"name": "v", "configMap": {"name": "grp", "defaultMode": 0o600}}]}
    });
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(env.client.clone(), "default");
    let pod = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(pod_json.take())?,
        )
        .await?;
    let paths = env.manager.prepare(&pod).await?;
    let file = std::fs::metadata(paths["v"].join("k"))?;
    assert_eq!(file.gid(), 2345);
    assert_eq!(file.mode() & 0o777, 0o640, "fsGroup adds group read");
    assert_eq!(std::fs::metadata(&paths["v"])?.gid(), 2345);
    env.manager
        .cleanup(pod.metadata.uid.as_deref().unwrap_or_default())
        .await?;
    Ok(())
}

#[tokio::test]
async fn optional_missing_is_empty_and_missing_source_recovers() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let pod = env
        .create_pod(
            "waiting-pod",
            json!([
                {"name": "maybe", "configMap": {"name": "nope", "optional": true}},
                {"name": "maybe-secret", "secret": {"secretName": "nope", "optional": true}},
                {"name": "needed", "secret": {"secretName": "late"}}
            ]),
            json!({}),
        )
        .await?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let err = env
        .manager
        .prepare(&pod)
        .await
        .expect_err("the secret does not exist yet");
    assert_eq!(err.reason, "FailedMount");
    assert_eq!(
        err.message,
        r#"MountVolume.SetUp failed for volume "needed" : secret "late" not found"#
    );

    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "default");
    let secret: Secret = serde_json::from_value(
        json!({"metadata": {"name": "late"}, "stringData": {"token": "t0k"}}),
    )?;
    secrets.create(&PostParams::default(), &secret).await?;
    let paths = env.manager.prepare(&pod).await?;
    assert_eq!(read(&paths["needed"].join("token")), "t0k");
    assert!(visible_entries(&paths["maybe"]).is_empty());
    assert!(visible_entries(&paths["maybe-secret"]).is_empty());
    assert_eq!(
        mount_fstype(&paths["maybe-secret"]).as_deref(),
        Some("tmpfs")
    );

    env.manager.cleanup(&uid).await?;
    assert!(mounts_under(&env.data_dir)?.is_empty());
    Ok(())
}
