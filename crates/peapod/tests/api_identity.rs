//! ServiceAccount tokens, the root CA ConfigMap and PodPreset, through kubectl.

mod common;

use common::{eventually, TestServer};

const PRESET: &str = "apiVersion: settings.k8s.io/v1alpha1
kind: PodPreset
metadata:
  name: allow-database
spec:
  selector:
    matchLabels:
      role: frontend
  env:
    - name: DB_PORT
      value: \"6379\"
  volumeMounts:
    - mountPath: /cache
      name: cache-volume
  volumes:
    - name: cache-volume
      emptyDir: {}
";

fn pod(name: &str, labels: &str, extra_annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {labels}\n  annotations: {extra_annotations}\nspec:\n  containers:\n  - name: main\n    image: busybox\n"
    )
}

#[test]
fn pod_presets_inject_settings_at_admission() {
    let s = TestServer::start();
    assert!(s
        .apply_stdin(&["apply", "-f", "-"], PRESET)
        .status
        .success());
    assert!(s.ok(&["get", "podpresets"]).contains("allow-database"));
    assert!(s
        .apply_stdin(
            &["apply", "-f", "-"],
            &pod("website", "{role: frontend}", "{}")
        )
        .status
        .success());
    let p: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "pod", "website", "-o", "json"])).unwrap();
    let c = &p["spec"]["containers"][0];
    assert_eq!(c["env"][0]["name"], "DB_PORT");
    assert!(c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["mountPath"] == "/cache"));
    assert!(p["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["name"] == "cache-volume"));
    let rv = p["metadata"]["annotations"]
        ["podpreset.admission.kubernetes.io/podpreset-allow-database"]
        .as_str();
    assert!(rv.is_some_and(|v| !v.is_empty()), "{p}");
    // Not selected, and opted out.
    assert!(s
        .apply_stdin(
            &["apply", "-f", "-"],
            &pod("other", "{role: backend}", "{}")
        )
        .status
        .success());
    let excluded = pod(
        "shy",
        "{role: frontend}",
        "{podpreset.admission.kubernetes.io/exclude: \"true\"}",
    );
    assert!(s
        .apply_stdin(&["apply", "-f", "-"], &excluded)
        .status
        .success());
    for name in ["other", "shy"] {
        let env = s.ok(&[
            "get",
            "pod",
            name,
            "-o",
            "jsonpath={.spec.containers[0].env}",
        ]);
        assert!(env.is_empty(), "{name}: {env}");
    }
    // A conflicting preset is skipped with an event on the pod.
    let conflicting = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: clash\n  labels: {role: frontend}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    env: [{name: DB_PORT, value: '1'}]\n";
    assert!(s
        .apply_stdin(&["apply", "-f", "-"], conflicting)
        .status
        .success());
    assert_eq!(
        s.ok(&[
            "get",
            "pod",
            "clash",
            "-o",
            "jsonpath={.spec.containers[0].env[0].value}"
        ]),
        "1"
    );
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=clash",
    ]);
    assert!(
        events.contains("FailedPodPreset") || events.contains("allow-database"),
        "{events}"
    );
}

#[test]
fn service_account_tokens_authenticate_and_pods_get_token_volumes() {
    let s = TestServer::start();
    // Every namespace gets the root CA and a default ServiceAccount.
    s.ok(&["create", "namespace", "team"]);
    eventually(10, "namespace objects", || {
        let cm = s.kubectl(&["get", "cm", "kube-root-ca.crt", "-n", "team"]);
        let sa = s.kubectl(&["get", "sa", "default", "-n", "team"]);
        (cm.status.success() && sa.status.success()).then_some(())
    });
    let ca = s.ok(&[
        "get",
        "cm",
        "kube-root-ca.crt",
        "-o",
        "jsonpath={.data.ca\\.crt}",
    ]);
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(s
        .apply_stdin(&["apply", "-f", "-"], &pod("app", "{a: b}", "{}"))
        .status
        .success());
    let p: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "pod", "app", "-o", "json"])).unwrap();
    let mount = &p["spec"]["containers"][0]["volumeMounts"][0];
    assert_eq!(
        mount["mountPath"],
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    assert_eq!(mount["readOnly"], true);
    assert!(mount["name"]
        .as_str()
        .unwrap()
        .starts_with("kube-api-access-"));
    // TokenRequest, then the token authenticates.
    let token = s.ok(&["create", "token", "default"]);
    let server = s.url("");
    let as_sa = |t: &str| {
        s.kubectl(&[
            "--kubeconfig=/dev/null",
            &format!("--server={server}"),
            "--insecure-skip-tls-verify",
            &format!("--token={}", t.trim()),
            "get",
            "pods",
        ])
    };
    assert!(as_sa(&token).status.success());
    assert!(!as_sa("not-a-token").status.success());
    // Deleting the ServiceAccount invalidates its tokens.
    s.ok(&["delete", "sa", "default"]);
    assert!(!as_sa(&token).status.success());
}
