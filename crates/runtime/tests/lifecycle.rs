//! Surviving the agent, recovery of dead sandboxes, and leaving no trace.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{wait_for, TestEnv};
use peapod_runtime::ContainerState;

fn supervisor_pid(sandbox_id: &str) -> i32 {
    for e in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if common::is_supervisor_of(pid, sandbox_id) {
            return pid;
        }
    }
    panic!("no supervisor for {sandbox_id}");
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn containers_survive_the_agent_and_are_readopted() {
    let mut env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("survivor")).unwrap();
    let id = env.run(
        &sb.id,
        &env.container(
            "app",
            &["sh", "-c", "while true; do echo tick; sleep 0.1; done"],
        ),
    );
    let pid = env.rt.container_status(&id).unwrap().pid.unwrap();
    // The agent goes away (a new Runtime on the same data dir, as after a restart).
    env.reopen();
    let report = env.rt.recover();
    assert_eq!(report.adopted, vec![sb.id.clone()]);
    assert!(report.cleaned.is_empty());
    let st = env.rt.container_status(&id).unwrap();
    assert_eq!((st.state, st.pid), (ContainerState::Running, Some(pid)));
    assert_eq!(
        env.exec_out(&id, &["echo", "still here"]),
        (0, "still here\n".to_string())
    );
    let log = st.log_path.clone();
    let n = std::fs::read_to_string(&log).unwrap().lines().count();
    wait_for(Duration::from_secs(5), || {
        (std::fs::read_to_string(&log).unwrap().lines().count() > n + 2).then_some(())
    });
    // Log rotation: move the file away and reopen.
    let rotated = log.with_extension("log.1");
    std::fs::rename(&log, &rotated).unwrap();
    env.rt.reopen_logs(&id).unwrap();
    wait_for(Duration::from_secs(5), || log.exists().then_some(()));
    env.rt
        .stop_container(&id, Duration::from_millis(100))
        .unwrap();
}

#[test]
fn sandbox_with_dead_supervisor_is_cleaned_on_recover() {
    let mut env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("orphan")).unwrap();
    let id = env.run(&sb.id, &env.container("app", &["sleep", "1000"]));
    let cpid = env.rt.container_status(&id).unwrap().pid.unwrap();
    let sup = supervisor_pid(&sb.id);
    // SAFETY: killing the supervisor process this test started.
    unsafe { libc::kill(sup, libc::SIGKILL) };
    wait_for(Duration::from_secs(5), || (!alive(sup)).then_some(()));
    env.reopen();
    let report = env.rt.recover();
    assert_eq!(report.cleaned, vec![sb.id.clone()]);
    wait_for(Duration::from_secs(5), || {
        (!alive(cpid) && !alive(sb.pause_pid)).then_some(())
    });
    assert!(env
        .cgroup_dirs()
        .iter()
        .all(|d| !d.to_string_lossy().contains(&sb.id)));
    assert!(env.rt.list_sandboxes().is_empty());
}

#[test]
fn pod_sandboxes_lists_only_that_pods() {
    let env = TestEnv::new();
    let (a, b) = (env.sandbox("pod-a"), env.sandbox("pod-b"));
    let sa = env.rt.run_sandbox(&a).unwrap();
    let sb = env.rt.run_sandbox(&b).unwrap();
    let ids = |uid: &str| -> Vec<String> {
        env.rt
            .pod_sandboxes(uid)
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(ids(&a.uid), vec![sa.id.clone()]);
    assert_eq!(ids(&b.uid), vec![sb.id.clone()]);
    assert!(ids("no-such-pod").is_empty());
    let st = env.rt.pod_sandboxes(&a.uid).remove(0);
    assert_eq!(st.state, peapod_runtime::SandboxState::Ready);
    env.rt.stop_sandbox(&sa.id, Duration::from_secs(0)).unwrap();
    assert_eq!(
        env.rt.pod_sandboxes(&a.uid)[0].state,
        peapod_runtime::SandboxState::NotReady
    );
    env.rt.remove_sandbox(&sa.id).unwrap();
    env.rt.remove_sandbox(&sb.id).unwrap();
}

#[test]
fn stopped_sandbox_keeps_its_records_across_recover() {
    let mut env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("finished")).unwrap();
    let id = env.run(&sb.id, &env.container("app", &["sh", "-c", "echo done"]));
    env.wait_exit(&id);
    env.rt.stop_sandbox(&sb.id, Duration::from_secs(0)).unwrap();
    env.reopen();
    let report = env.rt.recover();
    assert_eq!(report.stopped, vec![sb.id.clone()]);
    assert!(report.adopted.is_empty() && report.cleaned.is_empty());
    assert_eq!(env.rt.container_status(&id).unwrap().exit_code, Some(0));
    let log = std::fs::read_to_string(env.rt.container_log_path(&id).unwrap()).unwrap();
    assert!(log.contains("stdout F done"), "{log}");
    env.rt.remove_sandbox(&sb.id).unwrap();
    assert!(env.rt.list_sandboxes().is_empty());
}

/// Mount points under `dir` (tests in this binary run in parallel: scope to our data dir).
fn mount_points(dir: &str) -> BTreeSet<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|m| m.starts_with(dir))
        .collect()
}

/// Processes whose command line mentions `s`, except the runtime's own zygote (which lives
/// as long as the runtime does).
fn processes_mentioning(s: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(s) && comm.trim() != "pod-zygote"
        })
        .collect()
}

/// pause processes of our data dir (pause is a clone of the supervisor: same cmdline).
fn pause_processes(dir: &str) -> BTreeSet<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "pause")
                && String::from_utf8_lossy(&cmd).contains(dir)
        })
        .collect()
}

#[test]
fn fifty_sandboxes_leave_the_machine_as_before() {
    let env = TestEnv::new();
    // The shared cgroup parent (like kubepods) is created by the first pod and stays.
    let warmup_cfg = env.sandbox("warmup");
    let warmup = env.rt.run_sandbox(&warmup_cfg).unwrap();
    env.run(&warmup.id, &env.container("app", &["true"]));
    env.rt.remove_sandbox(&warmup.id).unwrap();
    env.rt
        .remove_pod_logs(&warmup_cfg.namespace, &warmup_cfg.name, &warmup_cfg.uid)
        .unwrap();
    let data = env.rt.data_dir().to_path_buf();
    let dir = data.to_string_lossy().to_string();
    let mounts_before = mount_points(&dir);
    let pauses_before = pause_processes(&dir);
    let cgroups_before = env.cgroup_dirs();
    let mut pods = Vec::new();
    for i in 0..50 {
        let mut cfg = env.sandbox(&format!("pod{i}"));
        cfg.share_pid = i % 2 == 0;
        cfg.volumes = vec![peapod_runtime::Volume {
            name: "mem".into(),
            source: peapod_runtime::VolumeSource::EmptyDir {
                memory: true,
                size_limit: None,
            },
        }];
        let sb = env.rt.run_sandbox(&cfg).unwrap();
        let id = env.run(&sb.id, &env.container("app", &["sleep", "1000"]));
        pods.push((sb, id, cfg));
    }
    assert_eq!(pause_processes(&dir).len(), pauses_before.len() + 50);
    for (sb, _, cfg) in &pods {
        env.rt.remove_sandbox(&sb.id).unwrap();
        env.rt
            .remove_pod_logs(&cfg.namespace, &cfg.name, &cfg.uid)
            .unwrap();
    }
    assert_eq!(mount_points(&dir), mounts_before);
    assert_eq!(pause_processes(&dir), pauses_before);
    assert!(processes_mentioning(&data.to_string_lossy()).is_empty());
    assert_eq!(env.cgroup_dirs(), cgroups_before);
    assert_eq!(
        std::fs::read_dir(data.join("sandboxes")).unwrap().count(),
        0
    );
    assert_eq!(std::fs::read_dir(data.join("pods")).unwrap().count(), 0);
    for (_, id, _) in &pods {
        assert!(env.rt.container_status(id).is_err());
    }
}

/// The pod-zygote processes whose command line names `data_dir`.
fn zygotes(data_dir: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            comm.trim() == "pod-zygote" && String::from_utf8_lossy(&cmd).contains(data_dir)
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// Supervisors are forked by one zygote per runtime: they are not its children (nor the
/// runtime's), a killed zygote is replaced on the next sandbox, and it exits with its runtime.
#[test]
fn supervisors_come_from_a_zygote_that_lives_with_its_runtime() {
    let mut env = TestEnv::new();
    let data = env.rt.data_dir().to_string_lossy().to_string();
    let first = env.rt.run_sandbox(&env.sandbox("zygote-a")).unwrap();
    let found = zygotes(&data);
    assert_eq!(found.len(), 1, "one zygote for the runtime: {found:?}");
    let sup = supervisor_pid(&first.id);
    let parent = std::fs::read_to_string(format!("/proc/{sup}/stat")).unwrap();
    let ppid: i32 = parent[parent.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        ppid != found[0] && ppid != std::process::id() as i32,
        "supervisor {sup} is a child of {ppid}"
    );

    // SAFETY: kill(2) on the zygote found above.
    unsafe { libc::kill(found[0], libc::SIGKILL) };
    wait_for(Duration::from_secs(5), || {
        zygotes(&data).is_empty().then_some(())
    });
    let second = env.rt.run_sandbox(&env.sandbox("zygote-b")).unwrap();
    assert!(alive(supervisor_pid(&second.id)));
    assert_eq!(
        zygotes(&data).len(),
        1,
        "a new zygote replaced the killed one"
    );
    assert!(alive(sup), "supervisors outlive their zygote");

    for sb in [&first, &second] {
        env.rt.remove_sandbox(&sb.id).unwrap();
    }
    env.reopen(); // drops the old runtime
    wait_for(Duration::from_secs(5), || {
        zygotes(&data).is_empty().then_some(())
    });
}
