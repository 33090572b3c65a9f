//! The official Python client (Debian's python3-kubernetes) against a peapod node: the
//! scenarios of its own end-to-end tests that found differences from kube-apiserver (stdin
//! in WebSocket TEXT frames, WebSocket port-forward, typed DELETE answers, the `kubernetes`
//! Service, ReplicationControllers). Each check is a function of `python/client_checks.py`.

mod common;

use std::process::Command;

use common::{apply, wait_ready, TestServer};

/// Debian's interpreter: the one python3-kubernetes is installed for (a `python3` earlier
/// on PATH may be another installation without it).
const PYTHON: &str = "/usr/bin/python3";

fn check(s: &TestServer, name: &str, args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_checks.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(s.kubeconfig())
        .arg("default")
        .arg(name)
        .args(args)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("OK {name}")),
        "python check {name} failed:\n{stdout}\n{}\n--- server log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        s.log_tail(30)
    );
}

#[test]
fn python_client_exec_port_forward_and_deletes() {
    let s = TestServer::start_node();
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: py-shell}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: py-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo served-through-portforward > /www/index.html && exec httpd -f -p 8080 -h /www']
---
apiVersion: v1
kind: ReplicationController
metadata: {name: py-rc}
spec:
  replicas: 0
  template:
    metadata: {labels: {app: py-rc}}
    spec:
      containers:
      - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
"#,
    );
    check(&s, "replication_controllers", &[]);
    check(&s, "delete_returns_typed_objects", &[]);
    check(&s, "kubernetes_service", &[]);
    wait_ready(&s, "py-shell");
    check(&s, "exec_stdin_text_frames", &["py-shell"]);
    wait_ready(&s, "py-web");
    check(&s, "port_forward", &["py-web", "8080"]);
}
