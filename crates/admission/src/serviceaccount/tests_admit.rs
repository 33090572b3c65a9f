use serde_json::{json, Value};

use super::admit::admit_with_names;
use super::*;

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "team-a"},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [
                {"name": "app", "image": "nginx"},
                {"name": "side", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    })
}

fn account(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount",
           "metadata": {"name": name, "namespace": "team-a", "uid": "sa-uid"}})
}

fn fixed(suffix: &'static str) -> impl FnMut() -> String {
    move || suffix.to_string()
}

fn mounts(pod: &Value, field: &str, index: usize) -> Vec<Value> {
    pod["spec"][field][index]["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn default_pod_gets_kubernetes_token_volume() {
    let mut p = pod();
    admit_with_names(&mut p, Some(&account("default")), fixed("x7k2q")).expect("admit");
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    assert_eq!(p["spec"]["serviceAccount"], "default");
    // The exact volume Kubernetes adds (as `kubectl get pod -o json` shows it).
    let expected_volume = json!({
        "name": "kube-api-access-x7k2q",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace",
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    });
    assert_eq!(
        p["spec"]["volumes"],
        json!([{"name": "data", "emptyDir": {}}, expected_volume])
    );
    let expected_mount = json!({"name": "kube-api-access-x7k2q", "readOnly": true,
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"});
    assert_eq!(
        mounts(&p, "initContainers", 0),
        vec![expected_mount.clone()]
    );
    assert_eq!(mounts(&p, "containers", 0), vec![expected_mount.clone()]);
    assert_eq!(
        mounts(&p, "containers", 1),
        vec![
            json!({"name": "data", "mountPath": "/data"}),
            expected_mount
        ]
    );
}

#[test]
fn random_volume_name_follows_the_kubernetes_pattern() {
    let mut names = std::collections::HashSet::new();
    for _ in 0..20 {
        let mut p = pod();
        admit_service_account(&mut p, Some(&account("default"))).expect("admit");
        let name = p["spec"]["volumes"][1]["name"]
            .as_str()
            .expect("name")
            .to_string();
        let suffix = name.strip_prefix("kube-api-access-").expect("prefix");
        assert_eq!(suffix.len(), 5);
        assert!(
            suffix
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)),
            "{name}"
        );
        names.insert(name);
    }
    assert!(names.len() > 1, "suffixes must be random");
}

#[test]
fn automount_false_on_pod_adds_nothing() {
    let mut p = pod();
    p["spec"]["automountServiceAccountToken"] = json!(false);
    let before = p["spec"]["volumes"].clone();
    admit_with_names(&mut p, Some(&account("default")), fixed("aaaaa")).expect("admit");
    assert_eq!(p["spec"]["volumes"], before);
    assert!(mounts(&p, "containers", 0).is_empty());
    assert_eq!(p["spec"]["serviceAccountName"], "default");
}

#[test]
fn automount_false_on_account_adds_nothing() {
    let mut p = pod();
    let mut sa = account("default");
    sa["automountServiceAccountToken"] = json!(false);
    admit_with_names(&mut p, Some(&sa), fixed("aaaaa")).expect("admit");
    assert_eq!(p["spec"]["volumes"].as_array().map(Vec::len), Some(1));
    assert!(mounts(&p, "initContainers", 0).is_empty());
}

#[test]
fn pod_true_overrides_account_false() {
    let mut p = pod();
    p["spec"]["automountServiceAccountToken"] = json!(true);
    let mut sa = account("default");
    sa["automountServiceAccountToken"] = json!(false);
    admit_with_names(&mut p, Some(&sa), fixed("bbbbb")).expect("admit");
    assert_eq!(p["spec"]["volumes"][1]["name"], "kube-api-access-bbbbb");
}

#[test]
fn missing_service_account_rejects_the_pod() {
    let mut p = pod();
    p["spec"]["serviceAccountName"] = json!("builder");
    let error = admit_with_names(&mut p, None, fixed("aaaaa")).expect_err("must reject");
    assert_eq!(
        error,
        "error looking up service account team-a/builder: serviceaccount \"builder\" not found"
    );
}

#[test]
fn named_and_deprecated_account_fields() {
    let mut p = pod();
    p["spec"]["serviceAccount"] = json!("legacy");
    assert_eq!(service_account_name(&p), "legacy");
    p["spec"]["serviceAccountName"] = json!("builder");
    assert_eq!(service_account_name(&p), "builder");
    admit_with_names(&mut p, Some(&account("builder")), fixed("ccccc")).expect("admit");
    assert_eq!(p["spec"]["serviceAccount"], "builder");
    // An account object that is not the one the pod names is a caller bug, reported.
    let mut q = pod();
    assert!(admit_with_names(&mut q, Some(&account("other")), fixed("ccccc")).is_err());
}

#[test]
fn existing_mount_at_token_path_is_respected() {
    let mut p = pod();
    p["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "data", "mountPath": TOKEN_MOUNT_PATH}]);
    admit_with_names(&mut p, Some(&account("default")), fixed("ddddd")).expect("admit");
    assert_eq!(
        mounts(&p, "containers", 0).len(),
        1,
        "own mount kept, none added"
    );
    assert_eq!(mounts(&p, "containers", 1).len(), 2);
    assert_eq!(p["spec"]["volumes"][1]["name"], "kube-api-access-ddddd");
}

#[test]
fn no_volume_when_every_container_mounts_the_path_itself() {
    let mut p = json!({"metadata": {"namespace": "n"}, "spec": {"containers": [
        {"name": "a", "volumeMounts": [{"name": "x", "mountPath": TOKEN_MOUNT_PATH}]}]}});
    admit_with_names(&mut p, Some(&account("default")), fixed("eeeee")).expect("admit");
    assert!(p["spec"].get("volumes").is_none());
}

#[test]
fn existing_token_volume_is_reused() {
    let mut p = pod();
    p["spec"]["volumes"]
        .as_array_mut()
        .expect("volumes")
        .push(token_volume("kube-api-access-abcde"));
    admit_with_names(&mut p, Some(&account("default")), fixed("zzzzz")).expect("admit");
    assert_eq!(p["spec"]["volumes"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        mounts(&p, "containers", 0)[0]["name"],
        "kube-api-access-abcde"
    );
}

#[test]
fn image_pull_secrets_are_copied_from_the_account() {
    let mut p = pod();
    let mut sa = account("default");
    sa["imagePullSecrets"] = json!([{"name": "regcred"}]);
    admit_with_names(&mut p, Some(&sa), fixed("fffff")).expect("admit");
    assert_eq!(p["spec"]["imagePullSecrets"], json!([{"name": "regcred"}]));
    // A pod with its own pull secrets keeps them.
    let mut q = pod();
    q["spec"]["imagePullSecrets"] = json!([{"name": "mine"}]);
    admit_with_names(&mut q, Some(&sa), fixed("fffff")).expect("admit");
    assert_eq!(q["spec"]["imagePullSecrets"], json!([{"name": "mine"}]));
}

#[test]
fn enforce_mountable_secrets_limits_secret_references() {
    let mut sa = account("default");
    sa["metadata"]["annotations"] = json!({"kubernetes.io/enforce-mountable-secrets": "true"});
    sa["secrets"] = json!([{"name": "allowed"}]);
    let mut ok = pod();
    ok["spec"]["volumes"] = json!([{"name": "s", "secret": {"secretName": "allowed"}}]);
    admit_with_names(&mut ok, Some(&sa), fixed("ggggg")).expect("allowed secret");
    let mut bad = pod();
    bad["spec"]["containers"][0]["env"] = json!([
        {"name": "P", "valueFrom": {"secretKeyRef": {"name": "forbidden", "key": "k"}}}]);
    let error = admit_with_names(&mut bad, Some(&sa), fixed("ggggg")).expect_err("reject");
    assert!(error.contains("forbidden"), "{error}");
}

#[test]
fn mirror_pods_are_validated_not_mutated() {
    let mut p = pod();
    p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "hash"});
    let before = p.clone();
    admit_with_names(&mut p, None, fixed("hhhhh")).expect("plain mirror pod is fine");
    assert_eq!(p, before);
    p["spec"]["serviceAccountName"] = json!("default");
    assert_eq!(
        admit_with_names(&mut p, None, fixed("hhhhh")),
        Err("a mirror pod may not reference service accounts".to_string())
    );
}

#[test]
fn malformed_pod_is_an_error() {
    let mut p = json!({"metadata": {"namespace": "n"}, "spec": {"containers": "nope"}});
    assert!(admit_with_names(&mut p, Some(&account("default")), fixed("iiiii")).is_err());
}

#[test]
fn root_ca_configmap_has_the_bundle() {
    let cm = root_ca_configmap(
        "team-a",
        "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
    );
    assert_eq!(cm["apiVersion"], "v1");
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "kube-root-ca.crt");
    assert_eq!(cm["metadata"]["namespace"], "team-a");
    assert!(cm["metadata"]["annotations"]["kubernetes.io/description"].is_string());
    assert_eq!(
        cm["data"],
        json!({"ca.crt": "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"})
    );
    assert!(!root_ca_configmap_outdated(
        &cm,
        "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"
    ));
    assert!(root_ca_configmap_outdated(&cm, "other"));
    assert!(root_ca_configmap_outdated(&json!({}), "other"));
}
