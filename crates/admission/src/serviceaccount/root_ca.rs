//! The `kube-root-ca.crt` ConfigMap published in every namespace, so pods can verify the API
//! server through the `ca.crt` of their token volume.

use serde_json::{json, Value};

use crate::json::str_at;

pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
const DESCRIPTION: &str = "CA bundle for verifying the API server when reached through the \
    in-cluster service address (kubernetes.default.svc); no other use is promised.";

/// The ConfigMap for `namespace` carrying `ca_pem` under `ca.crt`.
pub fn root_ca_configmap(namespace: &str, ca_pem: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ROOT_CA_CONFIGMAP,
            "namespace": namespace,
            "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
        },
        "data": {"ca.crt": ca_pem},
    })
}

/// True when `existing` (the stored ConfigMap) no longer carries `ca_pem`, so the publisher must
/// write it back (someone edited it, or the CA changed).
pub fn root_ca_configmap_outdated(existing: &Value, ca_pem: &str) -> bool {
    str_at(existing, &["data", "ca.crt"]) != Some(ca_pem)
}
