//! Overlay roots, read-only roots, users, host namespaces and tty exec.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::TestEnv;
use peapod_runtime::{ExecOptions, RootfsSource};

#[test]
fn overlay_rootfs_writes_go_to_the_container_upper_dir() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("overlay")).unwrap();
    let top = env.tmp.path().join("top-layer");
    std::fs::create_dir_all(top.join("etc")).unwrap();
    std::fs::write(top.join("etc/motd"), "from top layer\n").unwrap();
    let mut c = env.container(
        "ov",
        &[
            "sh",
            "-c",
            "cat /etc/motd; echo written > /new-file; rm /bin/vi",
        ],
    );
    c.rootfs = RootfsSource::Overlay {
        lower_dirs: vec![top.clone(), env.rootfs.clone()],
    };
    let id = env.run(&sb.id, &c);
    let st = env.wait_exit(&id);
    assert_eq!(st.exit_code, Some(0));
    assert!(std::fs::read_to_string(&st.log_path)
        .unwrap()
        .contains("from top layer"));
    assert!(
        !env.rootfs.join("new-file").exists(),
        "lower layer must stay untouched"
    );
    assert!(env.rootfs.join("bin/vi").symlink_metadata().is_ok());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        mounts.contains(&id),
        "overlay mounted while the container exists"
    );
    env.rt.remove_container(&id).unwrap();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&id), "overlay unmounted on removal");
}

#[test]
fn read_only_root_user_and_capabilities() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("secure")).unwrap();
    let mut c = env.container("ro", &["sleep", "1000"]);
    c.read_only_rootfs = true;
    c.run_as_user = Some(65534);
    c.no_new_privs = true;
    let id = env.run(&sb.id, &c);
    let (code, _) = env.exec_out(&id, &["touch", "/file"]);
    assert_ne!(code, 0, "root filesystem must be read-only");
    assert_eq!(env.exec_out(&id, &["id", "-u"]).1.trim(), "65534");
    let (_, status) = env.exec_out(&id, &["grep", "NoNewPrivs", "/proc/self/status"]);
    assert!(status.contains('1'), "{status}");
    assert_eq!(
        env.exec_out(
            &id,
            &["sh", "-c", "echo ok > /tmp/x 2>/dev/null || echo denied"]
        )
        .1
        .trim(),
        "denied"
    );
    // /dev/shm and /etc/hosts stay writable.
    assert_eq!(
        env.exec_out(&id, &["sh", "-c", "echo x > /dev/shm/f && echo shm-ok"])
            .1
            .trim(),
        "shm-ok"
    );

    let mut root = env.container("caps", &["sleep", "1000"]);
    root.capabilities.drop = vec!["ALL".into()];
    root.capabilities.add = vec!["NET_ADMIN".into()];
    let id = env.run(&sb.id, &root);
    let (_, caps) = env.exec_out(&id, &["grep", "CapEff", "/proc/self/status"]);
    // CAP_NET_ADMIN is bit 12 only.
    assert_eq!(
        caps.split_whitespace().nth(1),
        Some("0000000000001000"),
        "{caps}"
    );
    let mut nonroot = env.container("nonroot", &["true"]);
    nonroot.run_as_non_root = true;
    assert!(env.rt.create_container(&sb.id, &nonroot).is_err());
}

#[test]
fn host_network_pod_uses_the_host_namespaces() {
    let env = TestEnv::new();
    let mut cfg = env.sandbox("hostnet");
    cfg.host_network = true;
    cfg.host_ipc = true;
    let sb = env.rt.run_sandbox(&cfg).unwrap();
    assert!(sb.netns_path.is_none());
    let id = env.run(&sb.id, &env.container("c", &["sleep", "1000"]));
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    assert_eq!(
        env.exec_out(&id, &["readlink", "/proc/self/ns/net"])
            .1
            .trim(),
        host_net.to_string_lossy()
    );
    assert_eq!(
        env.exec_out(&id, &["readlink", "/proc/self/ns/ipc"])
            .1
            .trim(),
        host_ipc.to_string_lossy()
    );
}

#[test]
fn tty_exec_gets_a_terminal_and_resizes() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("ttyexec")).unwrap();
    let id = env.run(&sb.id, &env.container("c", &["sleep", "1000"]));
    let opts = ExecOptions {
        cmd: vec!["sh".into()],
        tty: true,
        ..Default::default()
    };
    let mut s = env.rt.exec(&id, &opts).unwrap();
    s.resize(100, 40).unwrap();
    s.stdout.write_all(b"tty; stty size; exit 5\n").unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let start = std::time::Instant::now();
    while !String::from_utf8_lossy(&out).contains("40 100")
        && start.elapsed() < Duration::from_secs(10)
    {
        match s.stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    assert!(
        String::from_utf8_lossy(&out).contains("40 100"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // The pty belongs to the container's devpts, so its name resolves in there.
    assert!(
        String::from_utf8_lossy(&out).contains("/dev/pts/0"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(s.wait().unwrap(), 5);
}
