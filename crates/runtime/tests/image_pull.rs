//! Pulls from a real registry (Debian's `docker-registry`, distribution 2.8) started
//! on 127.0.0.1 by the test, with busybox pushed by `skopeo copy` from an oci-archive.

mod image_support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use image_support::{busybox, sha256_hex, tree};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use peapod_runtime::image::{no_progress, ImageStore, PullEvent};

/// A registry process killed (and its storage removed) on drop.
struct Registry {
    child: Child,
    host: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
                dir.path().join("storage").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package docker-registry) must be installed");
        let registry = Registry {
            child,
            host,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&registry.host).is_err() {
            assert!(Instant::now() < deadline, "registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    fn push(&self, archive: &Path, repo_tag: &str) {
        let out = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .arg(format!("oci-archive:{}", archive.display()))
            .arg(format!("docker://{}/{repo_tag}", self.host))
            .output()
            .expect("skopeo (Debian package skopeo) must be installed");
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Digest of the manifest the registry serves for `repo_tag`.
    fn manifest_digest(&self, repo_tag: &str) -> String {
        let out = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{}/{repo_tag}", self.host))
            .output()
            .unwrap();
        assert!(out.status.success());
        format!("sha256:{}", sha256_hex(&out.stdout))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn pull_by_tag_and_by_digest() {
    let registry = Registry::start();
    registry.push(&busybox().oci_archive, "busybox:test");
    let digest = registry.manifest_digest("busybox:test");

    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let events = Mutex::new(Vec::new());
    let reference = format!("{}/busybox:test", registry.host);
    let record = runtime()
        .block_on(store.pull(&reference, &|e| events.lock().unwrap().push(e)))
        .expect("pull by tag over plain http to a loopback registry");
    assert_eq!(record.repo_tags, vec![reference.clone()]);
    assert_eq!(
        record.repo_digests,
        vec![format!("{}/busybox@{digest}", registry.host)]
    );
    assert_eq!(record.config.cmd, vec!["sh"]);
    let dirs = store.layer_dirs(&record).unwrap();
    assert!(dirs[0].join("bin/busybox").is_file());
    let events = events.into_inner().unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, PullEvent::LayerProgress { downloaded, .. } if *downloaded > 0)));
    assert!(events
        .iter()
        .any(|e| matches!(e, PullEvent::LayerDone { .. })));

    // Same content imported from the archive has the same ID: pull and import agree.
    let imported = store.import(&busybox().oci_archive).unwrap();
    assert_eq!(imported[0].id, record.id);

    // By digest, into a fresh store: no tag, the digest name.
    let data2 = tempfile::tempdir().unwrap();
    let store2 = ImageStore::open(data2.path()).unwrap();
    let by_digest = format!("{}/busybox@{digest}", registry.host);
    let record2 = runtime()
        .block_on(store2.pull(&by_digest, &no_progress))
        .expect("pull by digest");
    assert_eq!(record2.id, record.id);
    assert!(record2.repo_tags.is_empty());
    assert_eq!(record2.repo_digests, vec![by_digest.clone()]);
    assert!(store2.resolve(&by_digest).unwrap().is_some());

    // Remove after pull.
    store2.remove(&by_digest).unwrap();
    assert!(store2.list().unwrap().is_empty());
    assert!(tree(&store2.root().join("layers")).is_empty());
}

#[test]
fn pull_errors_leave_the_store_unchanged() {
    let registry = Registry::start();
    registry.push(&busybox().oci_archive, "busybox:test");
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let rt = runtime();
    let missing = format!("{}/busybox:nope", registry.host);
    let err = rt.block_on(store.pull(&missing, &no_progress)).unwrap_err();
    assert!(err.to_string().contains(&registry.host), "{err}");
    let wrong_digest = format!("{}/busybox@sha256:{}", registry.host, "0".repeat(64));
    assert!(rt
        .block_on(store.pull(&wrong_digest, &no_progress))
        .is_err());
    assert!(rt
        .block_on(store.pull("Not A Reference", &no_progress))
        .is_err());
    assert!(store.list().unwrap().is_empty());
    assert!(tree(&store.root().join("layers")).is_empty());
    assert!(tree(&store.root().join("tmp")).is_empty());
}

#[test]
fn pull_through_registries_yaml_mirror() {
    let registry = Registry::start();
    registry.push(&busybox().oci_archive, "library/busybox:mirrored");
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("registries.yaml"),
        format!(
            "mirrors:\n  docker.io:\n    endpoint:\n      - \"http://{}\"\nconfigs:\n  \"{}\":\n    auth:\n      username: ignored\n      password: ignored\n",
            registry.host, registry.host
        ),
    )
    .unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let events = Mutex::new(Vec::new());
    let record = runtime()
        .block_on(store.pull("busybox:mirrored", &|e| events.lock().unwrap().push(e)))
        .expect("pull docker.io image through the mirror");
    assert_eq!(record.repo_tags, vec!["docker.io/library/busybox:mirrored"]);
    let first = events.into_inner().unwrap().into_iter().next();
    assert!(
        matches!(&first, Some(PullEvent::Resolving { endpoint }) if *endpoint == registry.host),
        "mirror tried first: {first:?}"
    );

    std::fs::write(data.path().join("registries.yaml"), "mirrors: [unclosed").unwrap();
    let err = runtime()
        .block_on(store.pull("busybox:mirrored", &no_progress))
        .unwrap_err();
    assert!(err.to_string().contains("registries.yaml"), "{err}");
}

/// A manifest list with arm64 first: the linux/amd64 entry must be chosen.
#[test]
fn pull_resolves_manifest_list_for_linux_amd64() {
    let registry = Registry::start();
    registry.push(&busybox().oci_archive, "busybox:test");
    let amd64_digest = registry.manifest_digest("busybox:test");
    let rt = runtime();
    let index_digest = rt.block_on(push_multi_arch_index(&registry.host, &amd64_digest));

    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let reference = format!("{}/busybox:multi", registry.host);
    let record = rt
        .block_on(store.pull(&reference, &no_progress))
        .expect("pull list");
    assert_eq!(record.config.architecture.as_deref(), Some("amd64"));
    assert_eq!(record.config.cmd, vec!["sh"]);
    assert_eq!(record.manifest_digest.unwrap().to_string(), amd64_digest);
    // The repo digest is the list's, as Docker records it.
    assert_eq!(
        record.repo_digests,
        vec![format!("{}/busybox@{index_digest}", registry.host)]
    );
}

/// Pushes an arm64 variant (same layer, other config) and an index naming both.
async fn push_multi_arch_index(host: &str, amd64_manifest: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let repo = |tag: &str| Reference::with_tag(host.to_string(), "busybox".into(), tag.into());
    client
        .store_auth_if_needed(host, &RegistryAuth::Anonymous)
        .await;
    let (amd64_bytes, _) = client
        .pull_manifest_raw(
            &repo("test"),
            &RegistryAuth::Anonymous,
            &["application/vnd.oci.image.manifest.v1+json"],
        )
        .await
        .unwrap();
    let amd64: serde_json::Value = serde_json::from_slice(&amd64_bytes).unwrap();
    let layer = amd64["layers"][0].clone();
    let mut config_bytes = Vec::new();
    client
        .pull_blob(
            &repo("test"),
            amd64["config"]["digest"].as_str().unwrap(),
            &mut config_bytes,
        )
        .await
        .unwrap();
    let mut arm_config: serde_json::Value = serde_json::from_slice(&config_bytes).unwrap();
    arm_config["architecture"] = "arm64".into();
    arm_config["config"]["Cmd"] = serde_json::json!(["arm"]);
    let arm_config = serde_json::to_vec(&arm_config).unwrap();
    let arm_config_digest = format!("sha256:{}", sha256_hex(&arm_config));
    client
        .push_blob(&repo("arm"), arm_config.clone(), &arm_config_digest)
        .await
        .unwrap();
    let arm_manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": arm_config_digest, "size": arm_config.len()},
        "layers": [layer],
    }))
    .unwrap();
    let oci_manifest = http::HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json");
    client
        .push_manifest_raw(&repo("arm"), arm_manifest.clone(), oci_manifest)
        .await
        .unwrap();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": format!("sha256:{}", sha256_hex(&arm_manifest)), "size": arm_manifest.len(),
             "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": amd64_manifest, "size": amd64_bytes.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    }))
    .unwrap();
    client
        .push_manifest_raw(
            &repo("multi"),
            index.clone(),
            http::HeaderValue::from_static("application/vnd.oci.image.index.v1+json"),
        )
        .await
        .unwrap();
    format!("sha256:{}", sha256_hex(&index))
}
