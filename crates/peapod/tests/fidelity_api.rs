//! API answers that must match kube-apiserver's byte for byte or kind for kind: DELETE
//! bodies, `Status` serialisation, and the `kubernetes` Service.

mod common;

use common::{apply, TestServer};
use serde_json::Value;

fn body(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn delete_answers_the_object_or_a_status_as_upstream() {
    let s = TestServer::start();
    apply(
        &s,
        r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [example.com/hold]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec: {containers: [{name: c, image: busybox}]}
"#,
    );
    // Services answer with the deleted Service (typed clients parse a V1Service).
    let svc: Value = serde_json::from_str(&s.ok(&[
        "delete",
        "--raw",
        "/api/v1/namespaces/default/services/web",
    ]))
    .unwrap();
    assert_eq!(svc["kind"], "Service", "{svc}");
    assert_eq!(svc["metadata"]["name"], "web");

    // Most kinds answer a success Status naming the resource, with the exact bytes.
    let uid = s.ok(&["get", "cm", "cfg", "-o", "jsonpath={.metadata.uid}"]);
    let out = body(s.curl(&[
        "-X",
        "DELETE",
        &s.url("/api/v1/namespaces/default/configmaps/cfg"),
    ]));
    assert_eq!(
        out,
        format!(
            "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"status\":\"Success\",\"details\":{{\"name\":\"cfg\",\"kind\":\"configmaps\",\"uid\":\"{uid}\"}}}}\n"
        )
    );
    let out = body(s.curl(&[
        "-X",
        "DELETE",
        &s.url("/apis/apps/v1/namespaces/default/deployments/dep"),
    ]));
    assert!(
        out.contains(
            "\"details\":{\"name\":\"dep\",\"group\":\"apps\",\"kind\":\"deployments\",\"uid\":"
        ),
        "{out}"
    );

    // A deletion that is only started answers the object, marked; 202 only when the
    // deprecated orphanDependents is explicitly false.
    let out = s.curl(&[
        "-w",
        "\n%{http_code}",
        "-X",
        "DELETE",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"orphanDependents":false}"#,
        &s.url("/api/v1/namespaces/default/configmaps/held"),
    ]);
    let out = body(out);
    let (json, code) = out.rsplit_once('\n').unwrap();
    assert_eq!(code, "202", "{out}");
    let held: Value = serde_json::from_str(json).unwrap();
    assert_eq!(held["kind"], "ConfigMap");
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    s.ok(&[
        "patch",
        "cm",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
}

#[test]
fn error_statuses_are_serialised_as_kube_apiserver_does() {
    let s = TestServer::start();
    let out = body(s.curl(&[&s.url("/api/v1/namespaces/default/pods/nope")]));
    assert_eq!(
        out,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"nope\",\"kind\":\"pods\"},\"code\":404}\n"
    );
    let out = body(s.curl(&[&s.url("/apis/apps/v1/namespaces/default/deployments/nope")]));
    assert_eq!(
        out,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"deployments.apps \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"nope\",\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":404}\n"
    );
    // 422: details name, kind (the Kind), causes (reason, message, field), then the code.
    let out = body(s.curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}"#,
        &s.url("/api/v1/namespaces/default/configmaps"),
    ]));
    assert!(out.ends_with("}]},\"code\":422}\n"), "{out}");
    assert!(
        out.contains(
            "\"reason\":\"Invalid\",\"details\":{\"name\":\"Bad_Name\",\"kind\":\"ConfigMap\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"Bad_Name\\\": "
        ),
        "{out}"
    );
    assert!(out.contains("\"field\":\"metadata.name\"}]"), "{out}");
    // Objects and lists end with a newline too, as Go's encoder writes them.
    let out = body(s.curl(&[&s.url("/api/v1/namespaces/default")]));
    assert!(out.ends_with("}\n"), "{out}");
}

#[test]
fn the_kubernetes_service_points_at_the_api_server() {
    let s = TestServer::start();
    let svc: Value =
        serde_json::from_str(&s.ok(&["get", "svc", "kubernetes", "-n", "default", "-o", "json"]))
            .unwrap();
    assert_eq!(svc["spec"]["clusterIP"], "10.43.0.1", "{svc}");
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["metadata"]["labels"]["component"], "apiserver");
    assert_eq!(svc["metadata"]["labels"]["provider"], "kubernetes");
    let port = &svc["spec"]["ports"][0];
    assert_eq!(port["name"], "https");
    assert_eq!(port["port"], 443);
    assert_eq!(port["targetPort"], s.port);
    let ep: Value = serde_json::from_str(&s.ok(&[
        "get",
        "endpoints",
        "kubernetes",
        "-n",
        "default",
        "-o",
        "json",
    ]))
    .unwrap();
    let subset = &ep["subsets"][0];
    assert_eq!(subset["ports"][0]["port"], s.port, "{ep}");
    assert_eq!(subset["ports"][0]["name"], "https");
    let ip = subset["addresses"][0]["ip"].as_str().unwrap_or_default();
    assert!(ip.parse::<std::net::IpAddr>().is_ok(), "{ep}");
    // `kubectl get svc` lists it as users expect.
    let table = s.ok(&["get", "svc", "-n", "default"]);
    assert!(table.contains("kubernetes"), "{table}");
    assert!(table.contains("10.43.0.1"), "{table}");
}
