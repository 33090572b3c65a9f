//! Test harness: a real `peapod server` process on a free port with a temporary data dir,
//! driven by the real `kubectl`. Dropping it kills the process and removes the data.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
    extra_args: Vec<String>,
    /// Bridge of the embedded agent's network, when there is an agent.
    bridge: Option<String>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Test nodes keep an absolute disk threshold: the disk is shared with the build and with
/// whatever else runs on the machine, and kubelet's default `nodefs.available<10%` of a large
/// shared disk is gigabytes that a test cannot count on (the node would taint itself with
/// disk-pressure and no pod would schedule).
pub const TEST_EVICTION_HARD: &str =
    "--eviction-hard=memory.available<100Mi,nodefs.available<64Mi,pid.available<10%";

impl TestServer {
    /// An API-only server (no node agent).
    pub fn start() -> TestServer {
        Self::start_with(&["--disable-agent"])
    }

    /// A server with its embedded node agent, on a network of its own (unique bridge, pod
    /// CIDR and kubelet port) and with the busybox image preloaded.
    pub fn start_node() -> TestServer {
        Self::start_node_with_eviction(TEST_EVICTION_HARD)
    }

    /// `start_node` with this `--eviction-hard=...` argument.
    pub fn start_node_with_eviction(eviction_hard: &str) -> TestServer {
        let tag: u32 = rand_u32();
        let node = format!("node-{:x}", tag);
        let bridge = format!("pp{:x}", tag & 0xffffff);
        let cidr = format!("10.{}.0.0/16", 100 + (tag % 150));
        let kubelet_port = free_port().to_string();
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("data").join("images");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::copy(busybox_archive(), images.join("busybox.tar")).unwrap();
        let bridge_name = bridge.clone();
        let args = vec![
            "--node-name".to_string(),
            node,
            "--bridge-name".into(),
            bridge,
            "--cluster-cidr".into(),
            cidr,
            "--kubelet-port".into(),
            kubelet_port,
            eviction_hard.into(),
        ];
        let mut s = TestServer {
            dir,
            port: free_port(),
            child: None,
            extra_args: args,
            bridge: Some(bridge_name),
        };
        s.spawn();
        eventually(60, "node Ready", || {
            let out = s.kubectl(&[
                "get",
                "nodes",
                "-o",
                "jsonpath={.items[0].status.conditions[?(@.type==\"Ready\")].status}",
            ]);
            (String::from_utf8_lossy(&out.stdout) == "True").then_some(())
        });
        s
    }

    pub fn start_with(args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut s = TestServer {
            dir,
            port: free_port(),
            child: None,
            extra_args: args.iter().map(|s| s.to_string()).collect(),
            bridge: None,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_peapod"))
            .args(["server", "--data-dir"])
            .arg(self.data_dir())
            .args(["--port", &self.port.to_string()])
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start peapod server");
        self.child = Some(child);
        self.wait_ready();
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir().join("admin.kubeconfig")
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.kubeconfig().exists() {
                let out = self.kubectl(&["get", "--raw", "/readyz"]);
                if out.status.success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become ready:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGKILL, as a crash.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, as a service manager stops it; returns how long the process took to exit.
    pub fn terminate(&mut self) -> Duration {
        let mut c = self.child.take().expect("server running");
        sigterm_and_wait(&mut c)
    }

    /// Starts the server again on the same data dir and port (after `terminate`/`kill9`).
    pub fn start_again(&mut self) {
        self.spawn();
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn kubectl_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.args(args)
            .env("KUBECONFIG", self.kubeconfig())
            // A private discovery cache per server.
            .env("KUBECACHEDIR", self.dir.path().join("kubecache"))
            .env("HOME", self.dir.path());
        c
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_cmd(args).output().expect("run kubectl")
    }

    /// Runs kubectl and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {:?} failed: {}\n{}",
            args,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kubectl and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            !out.status.success(),
            "kubectl {:?} unexpectedly succeeded: {}",
            args,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// kubectl with a manifest on stdin.
    pub fn apply_stdin(&self, args: &[&str], manifest: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .kubectl_cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(manifest.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{}", self.port, path)
    }

    /// curl with the admin client certificate (paths extracted from the kubeconfig).
    pub fn curl(&self, args: &[&str]) -> Output {
        let tls = self.data_dir().join("tls");
        Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(tls.join("ca.crt"))
            .arg("--cert")
            .arg(tls.join("admin.crt"))
            .arg("--key")
            .arg(tls.join("admin.key"))
            .args(args)
            .output()
            .expect("run curl")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
        // Pods outlive the agent by design: remove what this node made, on purpose.
        if let Some(bridge) = &self.bridge {
            let status = Command::new(env!("CARGO_BIN_EXE_peapod"))
                .args(["reset", "--data-dir"])
                .arg(self.data_dir())
                .args(["--bridge-name", bridge])
                .stderr(Stdio::null())
                .status();
            if !matches!(status, Ok(s) if s.success()) {
                eprintln!("peapod reset failed for {}", self.data_dir().display());
            }
        }
    }
}

/// Sends SIGTERM to `child` and reaps it; returns the time from signal to exit.
pub fn sigterm_and_wait(child: &mut Child) -> Duration {
    let t0 = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
    let _ = child.wait();
    t0.elapsed()
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    u32::from_le_bytes(b) ^ std::process::id()
}

/// The busybox image archive, built once per target dir by scripts/build-busybox-image.sh.
pub fn busybox_archive() -> PathBuf {
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONCE.lock().unwrap_or_else(|p| p.into_inner());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("busybox-image");
    let tar = out.join("busybox-docker.tar");
    if !tar.exists() {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-busybox-image.sh");
        let status = Command::new("bash")
            .arg(script)
            .arg(&out)
            .status()
            .expect("run build-busybox-image.sh");
        assert!(status.success(), "building the busybox image failed");
    }
    tar
}

/// Polls `f` until it returns Some, or panics after `secs`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// `kubectl apply -f -` of a manifest; panics with kubectl's error.
pub fn apply(s: &TestServer, manifest: &str) {
    let out = s.apply_stdin(&["apply", "-f", "-"], manifest);
    assert!(
        out.status.success(),
        "apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for the pod's Ready condition; on timeout panics with `describe` and the server log.
pub fn wait_ready(s: &TestServer, pod: &str) {
    let out = s.kubectl(&[
        "wait",
        "--for=condition=Ready",
        &format!("pod/{pod}"),
        "--timeout=90s",
    ]);
    if !out.status.success() {
        let desc = s.kubectl(&["describe", "pod", pod]);
        panic!(
            "pod {pod} not ready: {}\n{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&desc.stdout),
            s.log_tail(60)
        );
    }
}
