//! Test support: a busybox rootfs, a runtime in a temp data dir with its own cgroup
//! parent, and cleanup of everything on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use peapod_runtime::{
    ContainerConfig, ContainerState, ContainerStatus, RootfsSource, Runtime, RuntimeConfig,
    SandboxConfig,
};

pub const BUSYBOX: &str = "/bin/busybox";

/// Builds a busybox root (applet links made inside a chroot so they point at /bin/busybox).
pub fn busybox_rootfs(root: &Path) -> PathBuf {
    assert!(
        Path::new(BUSYBOX).exists(),
        "apt-get install busybox-static"
    );
    for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "var/www"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
    // Retried: a copy just written can be briefly busy (ETXTBSY) while other test threads fork.
    let installed = (0..20).any(|_| {
        let ok = Command::new("chroot")
            .arg(root)
            .args(["/bin/busybox", "--install", "-s", "/bin"])
            .status()
            .unwrap()
            .success();
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        ok
    });
    assert!(installed, "busybox --install failed");
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    std::fs::set_permissions(
        root.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    root.to_path_buf()
}

pub struct TestEnv {
    pub rt: Runtime,
    pub rootfs: PathBuf,
    pub cgroup_parent: String,
    pub tmp: tempfile::TempDir,
}

pub fn helper_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_peapod-runtime-helper"))
}

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 4];
    // SAFETY: getrandom into a local buffer.
    unsafe { libc::getrandom(b.as_mut_ptr().cast(), 4, 0) };
    format!("{prefix}-{}-{}", std::process::id(), u32::from_le_bytes(b))
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let tmp = tempfile::tempdir().unwrap();
        let rootfs = busybox_rootfs(&tmp.path().join("rootfs"));
        let cgroup_parent = unique("peapod-test");
        let mut cfg = RuntimeConfig::new(tmp.path().join("data"), helper_exe());
        cfg.cgroup_parent = cgroup_parent.clone();
        let rt = Runtime::new(cfg).unwrap();
        TestEnv {
            rt,
            rootfs,
            cgroup_parent,
            tmp,
        }
    }

    /// A runtime on the same data dir, as after an agent restart.
    pub fn reopen(&mut self) {
        let mut cfg = RuntimeConfig::new(self.tmp.path().join("data"), helper_exe());
        cfg.cgroup_parent = self.cgroup_parent.clone();
        self.rt = Runtime::new(cfg).unwrap();
    }

    pub fn sandbox(&self, name: &str) -> SandboxConfig {
        SandboxConfig {
            name: name.into(),
            namespace: "default".into(),
            uid: unique("uid"),
            hostname: name.into(),
            ..Default::default()
        }
    }

    pub fn container(&self, name: &str, cmd: &[&str]) -> ContainerConfig {
        let mut c = ContainerConfig::new(name, RootfsSource::Dir(self.rootfs.clone()));
        c.command = cmd.iter().map(|s| s.to_string()).collect();
        c
    }

    /// Creates and starts a container.
    pub fn run(&self, sandbox: &str, c: &ContainerConfig) -> String {
        let id = match self.rt.create_container(sandbox, c) {
            Ok(id) => id,
            Err(e) => panic!(
                "create {}: {e:#}\n--- supervisor logs ---\n{}",
                c.name,
                self.supervisor_logs()
            ),
        };
        self.rt.start_container(&id).unwrap();
        id
    }

    /// Every sandbox's supervisor log, for failure messages.
    pub fn supervisor_logs(&self) -> String {
        let mut out = String::new();
        let sandboxes = self.tmp.path().join("data").join("sandboxes");
        for entry in std::fs::read_dir(&sandboxes)
            .into_iter()
            .flatten()
            .flatten()
        {
            let log = entry.path().join("supervisor.log");
            out.push_str(&format!(
                "{}:\n{}\n",
                log.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        out
    }

    pub fn wait_exit(&self, id: &str) -> ContainerStatus {
        wait_for(Duration::from_secs(20), || {
            let st = self.rt.container_status(id).unwrap();
            (st.state == ContainerState::Exited).then_some(st)
        })
    }

    pub fn exec_out(&self, id: &str, cmd: &[&str]) -> (i32, String) {
        let out = self
            .rt
            .exec_sync(id, cmd, b"", Duration::from_secs(20))
            .unwrap();
        (
            out.exit_code,
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    }

    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        cgroup_dirs_under(&self.cgroup_parent)
    }
}

/// Every cgroup directory at or below `parent` in every hierarchy.
pub fn cgroup_dirs_under(parent: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut roots: Vec<PathBuf> = std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(parent))
        .collect();
    roots.push(Path::new("/sys/fs/cgroup").join(parent));
    while let Some(d) = roots.pop() {
        if d.is_dir() {
            out.push(d.clone());
            for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    roots.push(e.path());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for sb in self.rt.list_sandboxes() {
            let _ = self.rt.remove_sandbox(&sb.id);
        }
        let mut dirs = self.cgroup_dirs();
        dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for d in dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
}

pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` is a pod supervisor (named `pod-supervisor`) whose sandbox directory (where
/// its stderr, `supervisor.log`, is) contains `needle` (a sandbox id or data dir).
pub fn is_supervisor_of(pid: i32, needle: &str) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let log = std::fs::read_link(format!("/proc/{pid}/fd/2")).unwrap_or_default();
    comm.trim() == "pod-supervisor" && log.to_string_lossy().contains(needle)
}
