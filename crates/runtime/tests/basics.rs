//! Sandbox + container lifecycle, logs, exec, exit codes and removal.

mod common;

use std::time::Duration;

use common::TestEnv;
use peapod_runtime::{ContainerState, SandboxState, TerminationMessagePolicy};

#[test]
fn container_runs_logs_and_is_removed() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("basic")).unwrap();
    assert!(sb.netns_path.as_ref().unwrap().exists());
    let c = env.container("app", &["sh", "-c", "echo out; echo err >&2; echo -n tail"]);
    let id = env.run(&sb.id, &c);
    let st = env.wait_exit(&id);
    assert_eq!(st.exit_code, Some(0));
    assert_eq!(st.reason.as_deref(), Some("Completed"));
    assert!(st.started_at.unwrap() <= st.finished_at.unwrap());
    let log = std::fs::read_to_string(&st.log_path).unwrap();
    assert!(st.log_path.ends_with("app/0.log"), "{:?}", st.log_path);
    let recs: Vec<(String, String)> = log
        .lines()
        .map(|l| {
            let mut p = l.splitn(4, ' ');
            let ts = p.next().unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(ts).is_ok(),
                "bad timestamp in {l:?}"
            );
            let stream = p.next().unwrap().to_string();
            let tag = p.next().unwrap();
            assert_eq!(tag, "F");
            (stream, p.next().unwrap_or("").to_string())
        })
        .collect();
    assert!(recs.contains(&("stdout".into(), "out".into())), "{log}");
    assert!(recs.contains(&("stderr".into(), "err".into())), "{log}");
    assert!(recs.contains(&("stdout".into(), "tail".into())), "{log}");
    env.rt.remove_container(&id).unwrap();
    assert!(env.rt.container_status(&id).is_err());
    assert!(st.log_path.exists(), "log of the previous instance is kept");
    env.rt.remove_sandbox(&sb.id).unwrap();
    assert!(env.rt.list_sandboxes().is_empty());
    assert!(env
        .cgroup_dirs()
        .iter()
        .all(|d| !d.to_string_lossy().contains(&sb.id)));
}

#[test]
fn exit_codes_and_termination_messages() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("exits")).unwrap();
    let fail = env.run(&sb.id, &env.container("fail", &["sh", "-c", "exit 3"]));
    let msg = env.run(
        &sb.id,
        &env.container(
            "msg",
            &["sh", "-c", "echo bye > /dev/termination-log; exit 1"],
        ),
    );
    let mut fb = env.container("fallback", &["sh", "-c", "echo first; echo oops; exit 2"]);
    fb.termination_message_policy = TerminationMessagePolicy::FallbackToLogsOnError;
    let fb = env.run(&sb.id, &fb);
    // PID 1 of its namespace without a TERM handler: stop must escalate to SIGKILL.
    let killed = env.run(&sb.id, &env.container("killed", &["sleep", "1000"]));
    let st = env.wait_exit(&fail);
    assert_eq!(
        (st.exit_code, st.reason.as_deref()),
        (Some(3), Some("Error"))
    );
    let st = env.wait_exit(&msg);
    assert_eq!(
        (st.exit_code, st.message.as_deref()),
        (Some(1), Some("bye\n"))
    );
    let st = env.wait_exit(&fb);
    assert_eq!(
        (st.exit_code, st.message.as_deref()),
        (Some(2), Some("first\noops"))
    );
    let t0 = std::time::Instant::now();
    env.rt
        .stop_container(&killed, Duration::from_millis(300))
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let st = env.wait_exit(&killed);
    assert_eq!(st.exit_code, Some(137));
    assert_ne!(st.reason.as_deref(), Some("OOMKilled"));
}

#[test]
fn exec_returns_exit_code_and_reads_stdin() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("exec")).unwrap();
    let mut c = env.container("app", &["sleep", "1000"]);
    c.env = vec!["GREETING=hello".into()];
    let id = env.run(&sb.id, &c);
    let out = env
        .rt
        .exec_sync(
            &id,
            &["sh", "-c", "cat; echo \" $GREETING\"; exit 7"],
            b"input",
            Duration::from_secs(20),
        )
        .unwrap();
    assert_eq!(out.exit_code, 7);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "input hello\n");
    let (code, host) = env.exec_out(&id, &["hostname"]);
    assert_eq!((code, host.trim()), (0, "exec"));
    let out = env
        .rt
        .exec_sync(
            &id,
            &["sh", "-c", "echo e >&2; exit 0"],
            b"",
            Duration::from_secs(20),
        )
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "e\n");
    assert!(
        env.rt
            .exec_sync(&id, &["/nonexistent"], b"", Duration::from_secs(20))
            .is_err()
            || env
                .rt
                .exec_sync(&id, &["/nonexistent"], b"", Duration::from_secs(20))
                .unwrap()
                .exit_code
                != 0
    );
    env.rt.stop_container(&id, Duration::from_secs(1)).unwrap();
    assert_eq!(
        env.rt.container_status(&id).unwrap().state,
        ContainerState::Exited
    );
}

#[test]
fn stopped_sandbox_keeps_statuses_and_dead_pause_means_not_ready() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("stopme")).unwrap();
    assert_eq!(
        env.rt.sandbox_status(&sb.id).unwrap().state,
        SandboxState::Ready
    );
    let id = env.run(&sb.id, &env.container("app", &["sleep", "1000"]));
    env.rt
        .stop_sandbox(&sb.id, Duration::from_millis(200))
        .unwrap();
    assert_eq!(
        env.rt.sandbox_status(&sb.id).unwrap().state,
        SandboxState::NotReady
    );
    let st = env.rt.container_status(&id).unwrap();
    assert_eq!(
        (st.state, st.exit_code),
        (ContainerState::Exited, Some(137))
    );
    assert!(env
        .rt
        .create_container(&sb.id, &env.container("late", &["true"]))
        .is_err());
    env.rt.remove_sandbox(&sb.id).unwrap();

    let sb = env.rt.run_sandbox(&env.sandbox("fragile")).unwrap();
    // SAFETY: killing the pause process this test created.
    unsafe { libc::kill(sb.pause_pid, libc::SIGKILL) };
    common::wait_for(Duration::from_secs(5), || {
        (env.rt.sandbox_status(&sb.id).unwrap().state == SandboxState::NotReady).then_some(())
    });
}

/// The containers of a pod may be created at once: each is built by a creator process the
/// supervisor forks, and its init, orphaned when the creator exits, becomes the
/// supervisor's child, so its exit is still seen and recorded.
#[test]
fn containers_created_at_once_are_children_of_the_supervisor() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("together")).unwrap();
    let cfgs: Vec<_> = (0..3)
        .map(|i| {
            let cmd = format!("sleep 0.3; exit {}", 3 + i);
            env.container(&format!("c{i}"), &["sh", "-c", &cmd])
        })
        .collect();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cfgs
            .iter()
            .map(|c| s.spawn(|| env.rt.create_container(&sb.id, c).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for id in &ids {
        let st = env.rt.container_status(id).unwrap();
        assert_eq!(st.state, ContainerState::Created);
        let pid = st.pid.expect("a created container has an init");
        let ppid = parent_of(pid);
        assert!(
            common::is_supervisor_of(ppid, &sb.id),
            "init {pid} of {id} is a child of {ppid}, not of the supervisor"
        );
    }
    for id in &ids {
        env.rt.start_container(id).unwrap();
    }
    let codes: Vec<Option<i32>> = ids.iter().map(|id| env.wait_exit(id).exit_code).collect();
    assert_eq!(codes, vec![Some(3), Some(4), Some(5)]);
    env.rt.remove_sandbox(&sb.id).unwrap();
}

fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which may contain spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(1).unwrap().parse().unwrap()
}
