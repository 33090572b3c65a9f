//! The real `kubectl` against this streaming server, behind a minimal stand-in for the API
//! server's read paths (version, discovery, one Running pod). Skipped when kubectl is absent.

mod common;

use std::io::Write;

use std::process::Output;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use common::backend::TestBackend;
use common::netns::TestNetns;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn kubectl_available() -> bool {
    std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn fake_api() -> Router {
    let pod = json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "default", "uid": "00000000-0000-0000-0000-000000000001",
                     "resourceVersion": "1", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0,
                   "image": "busybox", "imageID": "", "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]}
    });
    let resources = json!({
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
        "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
             "verbs": ["get", "list"], "shortNames": ["po"]},
            {"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]},
            {"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]},
            {"name": "pods/portforward", "singularName": "", "namespaced": true, "kind": "PodPortForwardOptions", "verbs": ["create", "get"]}
        ]
    });
    Router::new()
        .route("/version", get(|| async {
            Json(json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "0",
                        "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.4",
                        "compiler": "gc", "platform": "linux/amd64"}))
        }))
        .route("/api", get(|| async {
            Json(json!({"kind": "APIVersions", "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}))
        }))
        .route("/apis", get(|| async { Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})) }))
        .route("/api/v1", get(move || { let r = resources.clone(); async move { Json(r) } }))
        .route("/api/v1/namespaces/default/pods/web", get(move || { let p = pod.clone(); async move { Json::<Value>(p) } }))
}

struct Kubectl {
    home: tempfile::TempDir,
}

impl Kubectl {
    fn new(port: u16) -> Self {
        let home = tempfile::tempdir().expect("home");
        let kube = home.path().join(".kube");
        std::fs::create_dir_all(&kube).expect("kube dir");
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: u\n  user: {{}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u, namespace: default}}\n\
             current-context: c\n"
        );
        std::fs::write(kube.join("config"), config).expect("kubeconfig");
        Kubectl { home }
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("kubectl");
        cmd.args(args)
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.home.path().join(".kube/config"))
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl runs");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(bytes) = stdin {
            input.write_all(bytes).await.expect("stdin write");
        }
        drop(input);
        tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("kubectl finished in time")
            .expect("kubectl output")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn start(backend: TestBackend) -> (u16, Arc<TestBackend>, tokio::task::JoinHandle<()>) {
    let backend = Arc::new(backend);
    let app = peapod_streaming::router(backend.clone()).merge(fake_api());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, backend, server)
}

#[tokio::test]
async fn real_kubectl_exec_cp_logs_and_port_forward() {
    if !kubectl_available() {
        eprintln!("kubectl not on PATH: skipping");
        return;
    }
    let netns = TestNetns::create().expect("netns");
    let logs = tempfile::tempdir().expect("logs");
    let mut backend = TestBackend::new(logs.path());
    backend.netns = Some(netns.path.clone());
    let mut log = std::fs::File::create(&backend.log_path).expect("log");
    writeln!(log, "2024-01-01T00:00:00Z stdout F hello from the log").expect("write");
    let (port, backend, server) = start(backend).await;
    let kubectl = Kubectl::new(port);

    // exec: output, stderr and the exit code.
    let out = kubectl
        .run(
            &[
                "exec",
                "web",
                "--",
                "sh",
                "-c",
                "echo hi; echo err >&2; exit 3",
            ],
            None,
        )
        .await;
    assert_eq!(text(&out.stdout), "hi\n", "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("err"),
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "stderr: {}", text(&out.stderr));

    // exec -i: piped stdin ends with the v5 close signal.
    let out = kubectl
        .run(
            &["exec", "-i", "web", "--", "sh", "-c", "cat; echo end"],
            Some(b"piped\n"),
        )
        .await;
    assert_eq!(
        text(&out.stdout),
        "piped\nend\n",
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));

    // cp both ways (the test backend's "container" is this machine).
    let work = tempfile::tempdir().expect("work");
    let source = work.path().join("src.txt");
    std::fs::write(&source, "copied content\n").expect("src");
    let into = work.path().join("into");
    std::fs::create_dir(&into).expect("dir");
    let dest = format!("web:{}", into.display());
    let out = kubectl
        .run(&["cp", &source.display().to_string(), &dest], None)
        .await;
    assert!(out.status.success(), "cp to pod: {}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(into.join("src.txt")).expect("copied"),
        "copied content\n"
    );
    let back = work.path().join("back.txt");
    let from = format!("web:{}", into.join("src.txt").display());
    let out = kubectl
        .run(&["cp", &from, &back.display().to_string()], None)
        .await;
    assert!(out.status.success(), "cp from pod: {}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&back).expect("copied back"),
        "copied content\n"
    );

    // logs, then logs -f which ends when the container stops.
    let out = kubectl.run(&["logs", "web"], None).await;
    assert_eq!(
        text(&out.stdout),
        "hello from the log\n",
        "stderr: {}",
        text(&out.stderr)
    );
    let mut follow = kubectl.command(&["logs", "-f", "web"]);
    follow
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let follow = follow.spawn().expect("logs -f");
    tokio::time::sleep(Duration::from_millis(500)).await;
    writeln!(log, "2024-01-01T00:00:01Z stdout F later line").expect("write");
    tokio::time::sleep(Duration::from_millis(500)).await;
    backend.running.store(false, Ordering::SeqCst);
    let out = tokio::time::timeout(Duration::from_secs(20), follow.wait_with_output())
        .await
        .expect("logs -f ends")
        .expect("output");
    assert_eq!(text(&out.stdout), "hello from the log\nlater line\n");
    assert_eq!(out.status.code(), Some(0));

    // port-forward into the pod's network namespace.
    let local_port = free_port();
    let mapping = format!("{local_port}:{}", netns.echo_port);
    let mut forward = kubectl.command(&["port-forward", "pod/web", &mapping]);
    forward
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut forward = forward.spawn().expect("port-forward");
    let mut stdout = forward.stdout.take().expect("stdout");
    let mut banner = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(20), stdout.read(&mut banner))
        .await
        .expect("port-forward ready")
        .expect("read");
    assert!(
        text(&banner[..n]).contains("Forwarding from"),
        "{}",
        text(&banner[..n])
    );
    for round in 0..2 {
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", local_port))
            .await
            .expect("connect");
        let message = format!("echo round {round}");
        conn.write_all(message.as_bytes()).await.expect("write");
        let mut buf = vec![0u8; message.len()];
        tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut buf))
            .await
            .expect("echo in time")
            .expect("echo");
        assert_eq!(text(&buf), message);
    }
    let _ = forward.kill().await;
    server.abort();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
