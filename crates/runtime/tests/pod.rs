//! The seed scenarios: containers sharing a pod's namespaces and volumes.

mod common;

use std::time::Duration;

use common::{wait_for, TestEnv};
use peapod_runtime::{ContainerState, HostPathType, Volume, VolumeMount, VolumeSource};

#[test]
fn containers_share_net_and_uts_but_not_mnt_and_talk_on_localhost() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("web")).unwrap();
    let server = env.run(
        &sb.id,
        &env.container(
            "server",
            &[
                "sh",
                "-c",
                "echo hello-from-server > /var/www/index.html; exec httpd -f -p 8080 -h /var/www",
            ],
        ),
    );
    let client = env.run(&sb.id, &env.container("client", &["sleep", "1000"]));
    let ns = |id: &str, kind: &str| {
        env.exec_out(id, &["readlink", &format!("/proc/self/ns/{kind}")])
            .1
    };
    assert_eq!(ns(&server, "net"), ns(&client, "net"));
    assert_eq!(ns(&server, "uts"), ns(&client, "uts"));
    assert_eq!(ns(&server, "ipc"), ns(&client, "ipc"));
    assert_ne!(ns(&server, "mnt"), ns(&client, "mnt"));
    let pause_net = std::fs::read_link(sb.netns_path.as_ref().unwrap()).unwrap();
    assert_eq!(ns(&client, "net").trim(), pause_net.to_string_lossy());
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    assert_ne!(pause_net, host_net);
    let body = wait_for(Duration::from_secs(10), || {
        let (code, out) = env.exec_out(
            &client,
            &["wget", "-q", "-O", "-", "http://localhost:8080/index.html"],
        );
        (code == 0).then_some(out)
    });
    assert_eq!(body, "hello-from-server\n");
    assert_eq!(env.exec_out(&client, &["hostname"]).1.trim(), "web");
    let hosts = env.exec_out(&client, &["cat", "/etc/hosts"]).1;
    assert!(
        hosts.starts_with("# Kubernetes-managed hosts file."),
        "{hosts}"
    );
    env.rt
        .set_sandbox_ips(&sb.id, &["10.244.0.7".into()])
        .unwrap();
    let hosts = env.exec_out(&client, &["cat", "/etc/hosts"]).1;
    assert!(hosts.contains("10.244.0.7\tweb\n"), "{hosts}");
}

#[test]
fn init_container_fills_shared_volumes_before_the_app_reads_them() {
    let env = TestEnv::new();
    let host_dir = env.tmp.path().join("host-data");
    let mut cfg = env.sandbox("vols");
    cfg.volumes = vec![
        Volume {
            name: "scratch".into(),
            source: VolumeSource::EmptyDir {
                memory: false,
                size_limit: None,
            },
        },
        Volume {
            name: "mem".into(),
            source: VolumeSource::EmptyDir {
                memory: true,
                size_limit: Some(8 << 20),
            },
        },
        Volume {
            name: "host".into(),
            source: VolumeSource::HostPath {
                path: host_dir.clone(),
                kind: HostPathType::DirectoryOrCreate,
            },
        },
    ];
    let sb = env.rt.run_sandbox(&cfg).unwrap();
    let mount = |volume: &str, path: &str| VolumeMount {
        volume: volume.into(),
        container_path: path.into(),
        ..Default::default()
    };
    let mut init = env.container(
        "init",
        &["sh", "-c", "sleep 0.3; echo from-init > /scratch/f; echo mem > /mem/f; echo host > /host/f; mkdir -p /host/sub; echo sub > /host/sub/g"],
    );
    init.mounts = vec![
        mount("scratch", "/scratch"),
        mount("mem", "/mem"),
        mount("host", "/host"),
    ];
    let init_id = env.run(&sb.id, &init);
    let st = env.wait_exit(&init_id);
    assert_eq!(st.exit_code, Some(0));
    assert_eq!(
        std::fs::read_to_string(host_dir.join("f")).unwrap(),
        "host\n"
    );

    let mut app = env.container(
        "app",
        &[
            "sh",
            "-c",
            "cat /data/f /mem/f /host/f /sub/g; echo x > /ro/f || echo read-only",
        ],
    );
    app.mounts = vec![
        mount("scratch", "/data"),
        mount("mem", "/mem"),
        mount("host", "/host"),
        VolumeMount {
            sub_path: Some("sub".into()),
            ..mount("host", "/sub")
        },
        VolumeMount {
            read_only: true,
            ..mount("scratch", "/ro")
        },
    ];
    let app_id = env.run(&sb.id, &app);
    let st = env.wait_exit(&app_id);
    let log = std::fs::read_to_string(&st.log_path).unwrap();
    let lines: Vec<&str> = log
        .lines()
        .map(|l| l.splitn(4, ' ').nth(3).unwrap_or(""))
        .collect();
    assert!(
        lines.starts_with(&["from-init", "mem", "host", "sub"]),
        "{log}"
    );
    assert!(lines.contains(&"read-only"), "{log}");

    let mut escape = env.container("escape", &["true"]);
    std::os::unix::fs::symlink("/etc", host_dir.join("evil")).unwrap();
    escape.mounts = vec![VolumeMount {
        sub_path: Some("evil".into()),
        ..mount("host", "/x")
    }];
    let err = env.rt.create_container(&sb.id, &escape).unwrap_err();
    assert!(format!("{err:#}").contains("escapes"), "{err:#}");
}

#[test]
fn shared_process_namespace_has_pause_as_pid_1_and_reaps_zombies() {
    let env = TestEnv::new();
    let mut cfg = env.sandbox("shared");
    cfg.share_pid = true;
    let sb = env.rt.run_sandbox(&cfg).unwrap();
    let _a = env.run(&sb.id, &env.container("a", &["sleep", "1001"]));
    let b = env.run(&sb.id, &env.container("b", &["sleep", "1002"]));
    assert_eq!(env.exec_out(&b, &["cat", "/proc/1/comm"]).1.trim(), "pause");
    let ps = env.exec_out(&b, &["ps", "-o", "args"]).1;
    assert!(
        ps.contains("sleep 1001") && ps.contains("sleep 1002"),
        "{ps}"
    );
    // The background sleep is orphaned when sh exits: pause must adopt and reap it.
    let (_, pid) = env.exec_out(&b, &["sh", "-c", "sleep 1 >/dev/null 2>&1 & echo $!"]);
    let pid = pid.trim().to_string();
    let (_, status) = env.exec_out(&b, &["cat", &format!("/proc/{pid}/status")]);
    assert!(status.contains("PPid:\t1\n"), "{status}");
    wait_for(Duration::from_secs(5), || {
        let (code, _) = env.exec_out(&b, &["test", "-e", &format!("/proc/{pid}")]);
        (code != 0).then_some(())
    });
}

#[test]
fn stdin_and_tty_keep_sh_alive() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("tty")).unwrap();
    let mut c = env.container("shell", &["sh"]);
    c.stdin = true;
    c.tty = true;
    let id = env.run(&sb.id, &c);
    let mut plain = env.container("plain", &["sh"]);
    plain.stdin = true;
    let plain = env.run(&sb.id, &plain);
    let closed = env.run(&sb.id, &env.container("closed", &["sh"]));
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        env.rt.container_status(&id).unwrap().state,
        ContainerState::Running
    );
    assert_eq!(
        env.rt.container_status(&plain).unwrap().state,
        ContainerState::Running
    );
    assert_eq!(env.wait_exit(&closed).exit_code, Some(0));
    let (code, tty) = env.exec_out(&id, &["readlink", "/proc/1/fd/0"]);
    assert_eq!(code, 0);
    assert!(tty.starts_with("/dev/pts/"), "{tty}");
    env.rt
        .stop_container(&id, Duration::from_millis(200))
        .unwrap();
}

#[test]
fn memory_limit_kills_allocator_with_oomkilled() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("oom")).unwrap();
    // tail keeps a newline-free "line" in memory: it grows until the limit.
    let mut c = env.container("hog", &["sh", "-c", "head -c 200m /dev/zero | tail"]);
    c.resources.memory_limit_bytes = Some(32 << 20);
    let id = env.run(&sb.id, &c);
    let st = env.wait_exit(&id);
    assert_eq!(st.reason.as_deref(), Some("OOMKilled"), "{st:?}");
    assert_ne!(st.exit_code, Some(0));
}

#[test]
fn cgroup_files_show_cpu_memory_and_pids_limits() {
    let env = TestEnv::new();
    let mut cfg = env.sandbox("limits");
    cfg.resources.memory_limit_bytes = Some(256 << 20);
    let sb = env.rt.run_sandbox(&cfg).unwrap();
    let mut c = env.container("limited", &["sleep", "1000"]);
    c.resources.cpu_request_millis = Some(250);
    c.resources.cpu_limit_millis = Some(500);
    c.resources.memory_limit_bytes = Some(64 << 20);
    c.resources.pids_limit = Some(100);
    let id = env.run(&sb.id, &c);
    let pod = env.rt.sandbox_status(&sb.id).unwrap().cgroup;
    let rel = format!("{pod}/{id}");
    let layout = env.rt.cgroup_layout();
    let read = |ctrl: &str, cg: &str, file: &str| {
        std::fs::read_to_string(peapod_runtime::cgroups::file_path(layout, ctrl, cg, file))
            .unwrap()
            .trim()
            .to_string()
    };
    match layout {
        peapod_runtime::cgroups::Layout::V1 => {
            assert_eq!(read("cpu", &rel, "cpu.shares"), "256");
            assert_eq!(read("cpu", &rel, "cpu.cfs_quota_us"), "50000");
            assert_eq!(read("cpu", &rel, "cpu.cfs_period_us"), "100000");
            assert_eq!(
                read("memory", &rel, "memory.limit_in_bytes"),
                (64u64 << 20).to_string()
            );
            assert_eq!(
                read("memory", &pod, "memory.limit_in_bytes"),
                (256u64 << 20).to_string()
            );
        }
        peapod_runtime::cgroups::Layout::V2 => {
            assert_eq!(read("cpu", &rel, "cpu.max"), "50000 100000");
            assert_eq!(
                read("memory", &rel, "memory.max"),
                (64u64 << 20).to_string()
            );
        }
    }
    assert_eq!(read("pids", &rel, "pids.max"), "100");
    let pid = env.rt.container_status(&id).unwrap().pid.unwrap();
    let procs = read("pids", &rel, "cgroup.procs");
    assert!(procs.lines().any(|l| l == pid.to_string()), "{procs}");
}
