//! A separate node joining with `peapod agent --server --token-file`: registration, Lease,
//! node identity, pods, logs/exec through the API server, and an agent crash that leaves its
//! containers running. Also what `kubectl logs` says about containers that never started.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{
    apply, busybox_archive, eventually, free_port, wait_ready, TestServer, TEST_EVICTION_HARD,
};
use serde_json::Value;

/// A `peapod agent` process with its own data dir, bridge, pod range and kubelet port. Dropping
/// it kills the agent and removes its pods, network and data.
struct JoinedAgent {
    dir: tempfile::TempDir,
    name: String,
    bridge: String,
    args: Vec<String>,
    child: Option<Child>,
}

impl JoinedAgent {
    fn start(s: &TestServer, cluster_cidr: &str) -> JoinedAgent {
        let tag = random_u32();
        let name = format!("joined-{tag:x}");
        let bridge = format!("pj{:x}", tag & 0xffffff);
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("data").join("images");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::copy(busybox_archive(), images.join("busybox.tar")).unwrap();
        let token = s.data_dir().join("node-token");
        let args = vec![
            "agent".to_string(),
            "--server".into(),
            s.url(""),
            "--token-file".into(),
            token.display().to_string(),
            "--data-dir".into(),
            dir.path().join("data").display().to_string(),
            "--node-name".into(),
            name.clone(),
            "--bridge-name".into(),
            bridge.clone(),
            "--cluster-cidr".into(),
            cluster_cidr.into(),
            "--kubelet-port".into(),
            free_port().to_string(),
            TEST_EVICTION_HARD.into(),
        ];
        let mut a = JoinedAgent {
            dir,
            name,
            bridge,
            args,
            child: None,
        };
        a.spawn();
        a
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("agent.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_peapod"))
            .args(&self.args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start peapod agent");
        self.child = Some(child);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// SIGTERM; returns how long the agent took to exit.
    fn terminate(&mut self) -> Duration {
        let mut c = self.child.take().expect("agent running");
        common::sigterm_and_wait(&mut c)
    }

    /// SIGKILL, as a crash.
    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for JoinedAgent {
    fn drop(&mut self) {
        self.kill9();
        let status = Command::new(env!("CARGO_BIN_EXE_peapod"))
            .args(["reset", "--data-dir"])
            .arg(self.data_dir())
            .args(["--bridge-name", &self.bridge])
            .stderr(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("peapod reset failed for {}", self.data_dir().display());
        }
    }
}

fn random_u32() -> u32 {
    use std::io::Read;
    let mut b = [0u8; 4];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut b);
    }
    u32::from_le_bytes(b) ^ std::process::id()
}

fn unique_cidr() -> String {
    format!("10.{}.0.0/16", 100 + random_u32() % 150)
}

fn json(s: &TestServer, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    serde_json::from_str(&s.ok(&all)).expect("kubectl printed JSON")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn find_condition<'a>(node: &'a Value, kind: &str) -> Option<&'a Value> {
    node.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
}

fn condition<'a>(node: &'a Value, kind: &str) -> &'a Value {
    find_condition(node, kind).unwrap_or_else(|| panic!("no {kind} condition: {node}"))
}

/// The GOARCH name of the machine the test runs on.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        other => other,
    }
}

/// The subject of the client certificate in a kubeconfig, as openssl prints it (RFC 2253).
fn kubeconfig_cert(s: &TestServer, kubeconfig: &Path) -> String {
    let b64 = s.ok(&[
        "config",
        "view",
        "--raw",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "-o",
        "jsonpath={.users[0].user.client-certificate-data}",
    ]);
    let pem = Command::new("base64")
        .arg("-d")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b64.as_bytes())?;
            c.wait_with_output()
        })
        .expect("base64 -d");
    let cert = s.write("joined-client.crt", &String::from_utf8_lossy(&pem.stdout));
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(s.data_dir().join("tls").join("ca.crt"))
        .arg(&cert)
        .output()
        .expect("openssl verify");
    assert!(
        verify.status.success(),
        "the node certificate is not signed by the cluster CA: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
        .arg(&cert)
        .output()
        .expect("openssl x509");
    String::from_utf8_lossy(&subject.stdout).into_owned()
}

#[test]
fn agent_joins_runs_pods_and_survives_a_crash() {
    let cidr = unique_cidr();
    let s = TestServer::start_with(&["--disable-agent", "--cluster-cidr", &cidr]);

    // A token for another CA is refused before anything is sent.
    let forged = s.write("forged-token", &format!("PP10{}::secret\n", "0".repeat(64)));
    let out = Command::new(env!("CARGO_BIN_EXE_peapod"))
        .args(["agent", "--server", &s.url(""), "--token-file"])
        .arg(&forged)
        .arg("--data-dir")
        .arg(s.dir.path().join("never"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match the token"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut agent = JoinedAgent::start(&s, &cidr);
    let name = agent.name.clone();
    let node = eventually(60, "joined node Ready", || {
        let out = s.kubectl(&["get", "node", &name, "-o", "json"]);
        let node: Value = serde_json::from_slice(&out.stdout).ok()?;
        (find_condition(&node, "Ready")?["status"] == "True").then_some(node)
    });
    let labels = &node["metadata"]["labels"];
    assert_eq!(labels["kubernetes.io/hostname"], name.as_str());
    assert_eq!(labels["kubernetes.io/os"], "linux");
    assert_eq!(labels["kubernetes.io/arch"], go_arch());
    assert_eq!(str_at(&node, "/status/nodeInfo/architecture"), go_arch());
    assert_eq!(str_at(&node, "/status/nodeInfo/operatingSystem"), "linux");
    assert!(
        str_at(&node, "/status/nodeInfo/containerRuntimeVersion").starts_with("peapod://"),
        "{node}"
    );
    for field in ["capacity", "allocatable"] {
        let r = &node["status"][field];
        assert_eq!(r["pods"], "110", "{field}: {r}");
        for key in ["cpu", "memory", "ephemeral-storage"] {
            assert!(
                r[key].as_str().is_some_and(|q| !q.is_empty() && q != "0"),
                "{field}.{key}: {r}"
            );
        }
    }
    assert!(!str_at(&node, "/spec/podCIDR").is_empty(), "{node}");
    // Pressure conditions carry kubelet's reason for whichever status they have.
    for (kind, if_false, if_true) in [
        (
            "MemoryPressure",
            "KubeletHasSufficientMemory",
            "KubeletHasInsufficientMemory",
        ),
        (
            "DiskPressure",
            "KubeletHasNoDiskPressure",
            "KubeletHasDiskPressure",
        ),
        (
            "PIDPressure",
            "KubeletHasSufficientPID",
            "KubeletHasInsufficientPID",
        ),
    ] {
        let c = condition(&node, kind);
        let want = if c["status"] == "True" {
            if_true
        } else {
            if_false
        };
        assert_eq!(c["reason"], want, "{kind}: {c}");
    }

    // The Lease is renewed on every heartbeat.
    let renew_time = |s: &TestServer| {
        let out = s.kubectl(&[
            "get",
            "lease",
            "-n",
            "kube-node-lease",
            &name,
            "-o",
            "jsonpath={.spec.renewTime}",
        ]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = eventually(20, "node lease", || {
        Some(renew_time(&s)).filter(|t| !t.is_empty())
    });
    eventually(30, "lease renewal", || {
        (renew_time(&s) != first).then_some(())
    });
    let lease = json(&s, &["get", "lease", "-n", "kube-node-lease", &name]);
    assert_eq!(str_at(&lease, "/spec/holderIdentity"), name);
    assert_eq!(str_at(&lease, "/metadata/ownerReferences/0/kind"), "Node");

    // The agent's credentials: a node identity issued by the cluster CA, accepted by the server.
    let kubeconfig = agent.data_dir().join("agent.kubeconfig");
    let subject = kubeconfig_cert(&s, &kubeconfig);
    assert!(
        subject.contains(&format!("CN=system:node:{name}")) && subject.contains("O=system:nodes"),
        "{subject}"
    );
    s.ok(&[
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "get",
        "node",
        &name,
    ]);

    // A pod lands on the joined node and is reachable through the API server.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: joined}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: Never
    command: [sh, -c, 'echo hello-from-joined; exec sleep 3600']
",
    );
    wait_ready(&s, "joined");
    let pod = json(&s, &["get", "pod", "joined"]);
    assert_eq!(str_at(&pod, "/spec/nodeName"), name);
    let logs = eventually(20, "logs", || {
        let l = s.ok(&["logs", "joined"]);
        l.contains("hello-from-joined").then_some(l)
    });
    assert_eq!(logs, "hello-from-joined\n");
    assert_eq!(
        s.ok(&[
            "exec",
            "joined",
            "--",
            "sh",
            "-c",
            "echo exec-ok; cat /proc/1/cmdline"
        ]),
        "exec-ok\nsleep\x003600\x00"
    );
    let before = &pod["status"]["containerStatuses"][0];
    let container_id = str_at(before, "/containerID").to_string();
    let started_at = str_at(before, "/state/running/startedAt").to_string();
    assert!(
        container_id.starts_with("peapod://") && !started_at.is_empty(),
        "{before}"
    );

    // A crashed agent comes back and adopts the running container.
    let last_renewal = renew_time(&s);
    agent.kill9();
    agent.spawn();
    eventually(40, "the restarted agent renews its lease", || {
        (renew_time(&s) != last_renewal).then_some(())
    });
    eventually(30, "runtime recovery adopted the sandbox", || {
        agent
            .log()
            .contains("runtime recovery: 1 sandboxes adopted")
            .then_some(())
    });
    // Let the new agent sync the pod a few times before judging it.
    std::thread::sleep(Duration::from_secs(5));
    let after_pod = json(&s, &["get", "pod", "joined"]);
    let after = &after_pod["status"]["containerStatuses"][0];
    assert_eq!(str_at(after, "/containerID"), container_id, "{after}");
    assert_eq!(str_at(after, "/state/running/startedAt"), started_at);
    assert_eq!(after["restartCount"], 0, "{after}");
    assert_eq!(
        s.ok(&["exec", "joined", "--", "echo", "after-restart"]),
        "after-restart\n"
    );
    assert_eq!(s.ok(&["logs", "joined"]), "hello-from-joined\n");
    assert!(
        agent.log().matches("joined https://").count() == 2,
        "{}",
        agent.log()
    );

    // Force-deleted while the agent is down: the restarted agent removes what the pod left.
    agent.kill9();
    s.ok(&["delete", "pod", "joined", "--grace-period=0", "--force"]);
    let sandboxes = agent.data_dir().join("sandboxes");
    assert_eq!(std::fs::read_dir(&sandboxes).unwrap().count(), 1);
    agent.spawn();
    eventually(60, "the orphaned sandbox removed", || {
        let left = std::fs::read_dir(&sandboxes)
            .map(|d| d.count())
            .unwrap_or(0);
        let data = agent.data_dir().to_string_lossy().to_string();
        let supervisors = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                // A supervisor is named `pod-supervisor`; its stderr is in its sandbox dir.
                let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
                let log = std::fs::read_link(e.path().join("fd/2")).unwrap_or_default();
                comm.trim() == "pod-supervisor" && log.to_string_lossy().contains(&data)
            })
            .count();
        (left == 0 && supervisors == 0).then_some(())
    });
}

#[test]
fn logs_of_a_container_that_never_started_say_why() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: nopull}
spec:
  containers:
  - name: app
    image: peapod.invalid/missing:1
    imagePullPolicy: Never
",
    );
    eventually(60, "ErrImageNeverPull", || {
        let out = s.kubectl(&[
            "get",
            "pod",
            "nopull",
            "-o",
            "jsonpath={.status.containerStatuses[0].state.waiting.reason}",
        ]);
        (String::from_utf8_lossy(&out.stdout) == "ErrImageNeverPull").then_some(())
    });
    let err = s.fails(&["logs", "nopull"]);
    assert!(
        err.contains(
            "Error from server (BadRequest): container \"app\" in pod \"nopull\" is waiting to start: ErrImageNeverPull"
        ),
        "{err}"
    );
    let err = s.fails(&["logs", "nopull", "-c", "other"]);
    assert!(
        err.contains("container other is not valid for pod nopull"),
        "{err}"
    );

    // Without a container name the agent picks the only app container, not the init one.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: withinit}
spec:
  initContainers:
  - name: setup
    image: busybox
    imagePullPolicy: Never
    command: [sh, -c, 'echo from-init']
  containers:
  - name: app
    image: busybox
    imagePullPolicy: Never
    command: [sh, -c, 'echo from-app; exec sleep 3600']
",
    );
    wait_ready(&s, "withinit");
    let logs = eventually(20, "default container logs", || {
        let out = s.kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/pods/withinit/log",
        ]);
        let l = String::from_utf8_lossy(&out.stdout).into_owned();
        l.contains("from-app").then_some(l)
    });
    assert_eq!(logs, "from-app\n");
}

#[test]
fn agent_stops_at_once_on_sigterm_and_resumes_a_termination() {
    let cidr = unique_cidr();
    let s = TestServer::start_with(&["--disable-agent", "--cluster-cidr", &cidr]);
    let mut agent = JoinedAgent::start(&s, &cidr);
    let name = agent.name.clone();
    apply(
        &s,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: slowstop}}
spec:
  nodeName: {name}
  terminationGracePeriodSeconds: 8
  containers:
  - {{name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}}
"#
        ),
    );
    wait_ready(&s, "slowstop");
    // `sleep` as PID 1 ignores SIGTERM: stopping it waits out the whole grace period.
    s.ok(&["delete", "pod", "slowstop", "--wait=false"]);
    std::thread::sleep(Duration::from_secs(1));
    let took = agent.terminate();
    assert!(
        took < Duration::from_secs(2),
        "the agent took {took:?} to stop:\n{}",
        agent.log()
    );
    // The termination resumes when the agent starts again, and the pod goes.
    agent.spawn();
    eventually(60, "the interrupted termination finished", || {
        let out = s.kubectl(&["get", "pod", "slowstop", "-o", "name"]);
        (!out.status.success()).then_some(())
    });
}
