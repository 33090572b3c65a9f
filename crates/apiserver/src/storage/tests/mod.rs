//! The write pipeline without HTTP: a real SQLite store in a temporary directory, the system
//! namespaces made by bootstrap, and the pipeline's functions called directly.

mod create;
mod delete;
mod events;
mod subresources;
mod update;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::registry::{self, ResourceInfo};
use crate::state::{AppState, SharedState};
use crate::storage::{self, CreateRequest, ObjectRef};

/// A server state over a fresh store; keep the directory alive as long as the state.
async fn state() -> (SharedState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = peapod_store::SqliteStore::open(&dir.path().join("state.db")).expect("store");
    let tls = dir.path().join("tls");
    let pki = crate::pki::Pki::load_or_create(&tls).expect("pki");
    let state: SharedState = Arc::new(AppState {
        objects: crate::object_store::Objects {
            store: Arc::new(store),
        },
        metrics: crate::metrics::Metrics::default(),
        server_address: "127.0.0.1:6443".into(),
        data_dir: dir.path().to_path_buf(),
        signer: peapod_admission::TokenSigner::load_or_create(&tls).expect("signer"),
        ca_pem: pki.ca_cert_pem().to_string(),
        kubelet_client: None,
        pki: Arc::new(pki),
        node_token: String::new(),
    });
    crate::bootstrap::ensure_system_namespaces(&state)
        .await
        .expect("system namespaces");
    (state, dir)
}

fn res(group: &str, version: &str, plural: &str) -> &'static ResourceInfo {
    registry::find(group, version, plural).expect("served")
}

fn target<'a>(res: &'static ResourceInfo, name: &'a str) -> ObjectRef<'a> {
    ObjectRef {
        res,
        namespace: res.namespaced.then_some("default"),
        name,
    }
}

async fn create_in_default(
    state: &SharedState,
    res: &'static ResourceInfo,
    object: Value,
) -> Result<Value, ApiError> {
    let req = CreateRequest {
        res,
        namespace: Some("default"),
        object,
        dry_run: false,
    };
    storage::create(state, req).await
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn deployment(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
}

fn generation(obj: &Value) -> i64 {
    obj["metadata"]["generation"].as_i64().expect("generation")
}
