//! The API server driven by the stock kubectl, as users drive it.

mod common;

use common::{eventually, TestServer};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, 'sleep 3600']
    ports: [{containerPort: 80}]
  - name: sidecar
    image: busybox:1.36
";

#[test]
fn apply_creates_then_unchanged_then_configured() {
    let s = TestServer::start();
    let f = s.write("pod.yaml", POD);
    let f = f.to_str().unwrap();
    assert!(s.ok(&["apply", "-f", f]).contains("pod/web created"));
    assert!(s.ok(&["apply", "-f", f]).contains("pod/web unchanged"));
    s.write("pod.yaml", &POD.replacen("busybox:1.36", "busybox:1.37", 1));
    assert!(s.ok(&["apply", "-f", f]).contains("pod/web configured"));
    let images = s.ok(&[
        "get",
        "pod",
        "web",
        "-o",
        "jsonpath={.spec.containers[*].image}",
    ]);
    assert_eq!(images, "busybox:1.37 busybox:1.36");
    // Server-side defaults, as Kubernetes fills them.
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "pod", "web", "-o", "json"])).unwrap();
    assert_eq!(json["spec"]["restartPolicy"], "Always");
    assert_eq!(json["spec"]["dnsPolicy"], "ClusterFirst");
    assert_eq!(json["spec"]["schedulerName"], "default-scheduler");
    assert_eq!(json["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
    assert_eq!(
        json["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert_eq!(json["status"]["phase"], "Pending");
    assert_eq!(json["status"]["qosClass"], "BestEffort");
    assert!(json["metadata"]["uid"].as_str().unwrap().len() == 36);
}

#[test]
fn get_output_formats() {
    let s = TestServer::start();
    assert!(s.apply_stdin(&["apply", "-f", "-"], POD).status.success());
    let table = s.ok(&["get", "pods"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(
        table.contains("web") && table.contains("0/2") && table.contains("Pending"),
        "{table}"
    );
    let wide = s.ok(&["get", "pods", "-o", "wide"]);
    assert!(
        wide.lines().next().unwrap().contains("NOMINATED NODE"),
        "{wide}"
    );
    let labels = s.ok(&["get", "pods", "--show-labels"]);
    assert!(labels.contains("app=web,tier=front"), "{labels}");
    let all = s.ok(&["get", "pods", "-A"]);
    assert!(
        all.starts_with("NAMESPACE") && all.contains("default"),
        "{all}"
    );
    let yaml = s.ok(&["get", "pod", "web", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Pod") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    assert_eq!(s.ok(&["get", "pods", "-o", "name"]).trim(), "pod/web");
    let ns = s.ok(&["get", "namespaces"]);
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(ns.contains(n), "{ns}");
    }
    assert!(ns.contains("Active"));
    let sa = s.ok(&["get", "serviceaccounts", "-A"]);
    assert_eq!(
        sa.lines().filter(|l| l.contains(" default ")).count(),
        4,
        "{sa}"
    );
    let described = s.ok(&["describe", "pod", "web"]);
    assert!(
        described.contains("Name:")
            && described.contains("busybox:1.36")
            && described.contains("80/TCP"),
        "{described}"
    );
}

#[test]
fn label_annotate_scale_and_deployments() {
    let s = TestServer::start();
    s.ok(&[
        "create",
        "deployment",
        "api",
        "--image=busybox",
        "--replicas=2",
    ]);
    let d = s.ok(&["get", "deploy", "api"]);
    assert!(d.lines().next().unwrap().contains("UP-TO-DATE"), "{d}");
    assert!(s
        .ok(&["scale", "deployment", "api", "--replicas=5"])
        .contains("scaled"));
    assert_eq!(
        s.ok(&["get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"]),
        "5"
    );
    assert_eq!(
        s.ok(&[
            "get",
            "deploy",
            "api",
            "-o",
            "jsonpath={.metadata.generation}"
        ]),
        "2"
    );
    s.ok(&["label", "deploy", "api", "team=core"]);
    s.ok(&["annotate", "deploy", "api", "note=hello"]);
    assert_eq!(
        s.ok(&["get", "deploy", "-l", "team=core", "-o", "name"])
            .trim(),
        "deployment.apps/api"
    );
    assert!(s
        .ok(&["get", "deploy", "-l", "team!=core", "-o", "name"])
        .trim()
        .is_empty());
    assert_eq!(
        s.ok(&[
            "get",
            "deploy",
            "api",
            "-o",
            "jsonpath={.metadata.annotations.note}"
        ]),
        "hello"
    );
    // A label change is not a spec change.
    assert_eq!(
        s.ok(&[
            "get",
            "deploy",
            "api",
            "-o",
            "jsonpath={.metadata.generation}"
        ]),
        "2"
    );
}

#[test]
fn secrets_and_configmaps_from_files_and_literals() {
    let s = TestServer::start();
    let f = s.write("username.txt", "admin");
    let from = format!("--from-file={}", f.display());
    s.ok(&[
        "create",
        "secret",
        "generic",
        "user",
        &from,
        "--from-literal=pw=s3cret",
    ]);
    let data = s.ok(&[
        "get",
        "secret",
        "user",
        "-o",
        "jsonpath={.data.username\\.txt} {.data.pw} {.type}",
    ]);
    assert_eq!(data, "YWRtaW4= czNjcmV0 Opaque");
    s.ok(&[
        "create",
        "configmap",
        "cfg",
        &from,
        "--from-literal=mode=fast",
    ]);
    assert_eq!(
        s.ok(&["get", "cm", "cfg", "-o", "jsonpath={.data.mode}"]),
        "fast"
    );
    let table = s.ok(&["get", "cm", "cfg"]);
    assert!(table.contains("DATA") && table.contains(" 2 "), "{table}");
    // Protobuf bodies from `kubectl create` for other kinds.
    s.ok(&["create", "namespace", "team-a"]);
    s.ok(&["create", "serviceaccount", "robot", "-n", "team-a"]);
    assert!(s.ok(&["get", "sa", "-n", "team-a"]).contains("robot"));
}

#[test]
fn delete_waits_and_namespaces_terminate() {
    let s = TestServer::start();
    assert!(s.apply_stdin(&["apply", "-f", "-"], POD).status.success());
    assert!(s
        .ok(&["delete", "pod", "web"])
        .contains("pod \"web\" deleted"));
    assert!(s.fails(&["get", "pod", "web"]).contains("NotFound"));
    s.ok(&["create", "namespace", "scratch"]);
    s.ok(&[
        "create",
        "configmap",
        "c1",
        "-n",
        "scratch",
        "--from-literal=a=b",
    ]);
    s.ok(&["delete", "namespace", "scratch"]);
    assert!(s
        .fails(&["get", "namespace", "scratch"])
        .contains("NotFound"));
    let err = s.fails(&[
        "create",
        "configmap",
        "c2",
        "-n",
        "nowhere",
        "--from-literal=a=b",
    ]);
    assert!(
        err.contains("not found") && err.contains("nowhere"),
        "{err}"
    );
}

#[test]
fn wait_for_condition_through_watch() {
    let s = TestServer::start();
    assert!(s.apply_stdin(&["apply", "-f", "-"], POD).status.success());
    let wait = s
        .kubectl_cmd(&["wait", "--for=condition=Ready", "pod/web", "--timeout=20s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let patch = r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#;
    s.ok(&[
        "patch",
        "pod",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        patch,
    ]);
    let out = wait.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("condition met"));
    // Status writes do not touch spec or bump generation.
    assert_eq!(
        s.ok(&["get", "pod", "web", "-o", "jsonpath={.metadata.generation}"]),
        "1"
    );
}

#[test]
fn events_are_listed_and_filtered() {
    let s = TestServer::start();
    let ev = |name: &str, obj: &str, reason: &str| {
        format!(
            "apiVersion: v1\nkind: Event\nmetadata: {{name: {name}}}\ninvolvedObject: {{kind: Pod, name: {obj}, namespace: default}}\nreason: {reason}\nmessage: hello {obj}\ntype: Normal\nfirstTimestamp: '2026-01-01T00:00:00Z'\nlastTimestamp: '2026-01-01T00:00:00Z'\ncount: 1\n"
        )
    };
    assert!(s
        .apply_stdin(&["create", "-f", "-"], &ev("e1", "web", "Scheduled"))
        .status
        .success());
    assert!(s
        .apply_stdin(&["create", "-f", "-"], &ev("e2", "db", "Pulled"))
        .status
        .success());
    let all = s.ok(&["get", "events"]);
    assert!(
        all.contains("pod/web") && all.contains("Scheduled") && all.contains("pod/db"),
        "{all}"
    );
    let one = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=web",
        "-o",
        "name",
    ]);
    assert_eq!(one.trim(), "event/e1");
    let bad = s.fails(&["get", "events", "--field-selector", "nonsense=1"]);
    assert!(bad.contains("field label not supported"), "{bad}");
}

#[test]
fn invalid_and_hostile_input_is_refused_cleanly() {
    let s = TestServer::start();
    let bad_name = POD.replace("name: web", "name: Web_Server");
    let out = s.apply_stdin(&["apply", "-f", "-"], &bad_name);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is invalid") && err.contains("metadata.name"),
        "{err}"
    );
    let unknown = POD.replace("    ports:", "    imagee: x\n    ports:");
    let out = s.apply_stdin(&["apply", "-f", "-"], &unknown);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field \"spec.containers[0].imagee\""),
        "{err}"
    );
    let dup = POD.replace("name: sidecar", "name: main");
    let err =
        String::from_utf8_lossy(&s.apply_stdin(&["apply", "-f", "-"], &dup).stderr).into_owned();
    assert!(err.contains("Duplicate value"), "{err}");
    // Raw HTTP: malformed JSON, oversized body, no credentials, wrong kind.
    let url = s.url("/api/v1/namespaces/default/configmaps");
    let out = s.curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        "{{{",
        "-w",
        "%{http_code}",
        &url,
    ]);
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        body.ends_with("400") && body.contains("\"reason\":\"BadRequest\""),
        "{body}"
    );
    let big = s.write(
        "big.json",
        &format!(
            "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"a\":\"{}\"}}}}",
            "x".repeat(4 << 20)
        ),
    );
    let out = s.curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", big.display()),
        "-w",
        "%{http_code}",
        &url,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("413"));
    let anon = std::process::Command::new("curl")
        .args(["-sk", "-w", "%{http_code}", &url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&anon.stdout).ends_with("401"));
    let health = std::process::Command::new("curl")
        .args(["-sk", &s.url("/healthz")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&health.stdout), "ok");
    let wrong = s.curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"}}"#,
        "-w",
        "%{http_code}",
        &url,
    ]);
    assert!(String::from_utf8_lossy(&wrong.stdout).ends_with("400"));
    // The server is still fine.
    s.ok(&["get", "ns", "default"]);
}

#[test]
fn optimistic_concurrency_conflict() {
    let s = TestServer::start();
    s.ok(&["create", "configmap", "c", "--from-literal=a=1"]);
    let rv = s.ok(&[
        "get",
        "cm",
        "c",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    s.ok(&["label", "cm", "c", "x=y"]);
    let stale = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, resourceVersion: '{rv}'}}\ndata: {{a: '2'}}\n");
    let out = s.apply_stdin(&["replace", "-f", "-"], &stale);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Conflict") && err.contains("the object has been modified"),
        "{err}"
    );
    assert_eq!(s.ok(&["get", "cm", "c", "-o", "jsonpath={.data.a}"]), "1");
}

#[test]
fn watch_streams_resumes_and_expires() {
    let s = TestServer::start_with(&["--disable-agent", "--store-history", "50"]);
    s.ok(&["create", "configmap", "w0", "--from-literal=a=1"]);
    let rv: i64 = s
        .ok(&[
            "get",
            "cm",
            "w0",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
        .parse()
        .unwrap();
    s.ok(&["create", "configmap", "w1", "--from-literal=a=1"]);
    // Resume from a revision: only later events come back.
    let path = format!(
        "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=1"
    );
    let out = s.ok(&["get", "--raw", &path]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "w1");
    let w1_rv = lines[0]["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_default();
    assert!(w1_rv > rv, "{out}");
    // A plain JSON list (served from the stored bytes) carries every item's resourceVersion,
    // and pages with limit/continue.
    let list: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "--raw", "/api/v1/namespaces/default/configmaps"]))
            .unwrap();
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["apiVersion"], "v1");
    let items = list["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"w0") && names.contains(&"w1"), "{list}");
    let w1 = items
        .iter()
        .find(|i| i["metadata"]["name"] == "w1")
        .unwrap();
    assert_eq!(w1["metadata"]["resourceVersion"], w1_rv.to_string());
    assert_eq!(w1["data"]["a"], "1");
    let page: serde_json::Value = serde_json::from_str(&s.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps?limit=1",
    ]))
    .unwrap();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert!(page["metadata"]["continue"].is_string(), "{page}");
    // kubectl get -w prints rows as they change.
    let w = s
        .kubectl_cmd(&["get", "cm", "-w", "--request-timeout=4s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    s.ok(&["create", "configmap", "w2", "--from-literal=a=1"]);
    let out = w.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("w0") && text.contains("w2"), "{text}");
    // Push the history past the compaction window: an old revision is 410 Expired.
    let many: String = (0..1100)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bulk-{i}}}\n"))
        .collect();
    assert!(s
        .apply_stdin(&["create", "-f", "-"], &many)
        .status
        .success());
    let out = s.ok(&["get", "--raw", &path]);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "ERROR", "{out}");
    assert_eq!(first["object"]["code"], 410);
    assert_eq!(first["object"]["reason"], "Expired");
    // kubectl's own watch machinery recovers from 410 by listing again.
    eventually(10, "list after 410", || {
        let o = s.kubectl(&["get", "cm", "bulk-7"]);
        o.status.success().then_some(())
    });
}
