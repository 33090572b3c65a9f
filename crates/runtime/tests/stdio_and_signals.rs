//! Attach to a running container (output fan-out, stdin, stdinOnce, tty resize, detach) and
//! the stop signal an image asks for.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use common::TestEnv;
use peapod_runtime::{AttachOptions, ContainerState};

#[test]
fn attach_streams_output_and_feeds_stdin_once() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("attach")).unwrap();
    let mut c = env.container(
        "echoer",
        &[
            "sh",
            "-c",
            "while read line; do echo \"out:$line\"; echo \"err:$line\" >&2; done; echo bye; exit 7",
        ],
    );
    c.stdin = true;
    c.stdin_once = true;
    let id = env.run(&sb.id, &c);

    // A first caller detaches without closing stdin: the container keeps running.
    let first = env
        .rt
        .attach(
            &id,
            AttachOptions {
                stdin: true,
                tty: false,
            },
        )
        .unwrap();
    let mut out = BufReader::new(first.stdout.try_clone().unwrap());
    first.stdin.as_ref().unwrap().write_all(b"one\n").unwrap();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "out:one\n");
    drop(out);
    drop(first);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        env.rt.container_status(&id).unwrap().state,
        ContainerState::Running
    );

    // The second caller sends input, then closes stdin: stdinOnce closes the container's
    // stdin, the loop ends and the caller gets the rest of the output and the exit code.
    let mut second = env
        .rt
        .attach(
            &id,
            AttachOptions {
                stdin: true,
                tty: false,
            },
        )
        .unwrap();
    let mut stdin = second.stdin.take().unwrap();
    stdin.write_all(b"two\nthree\n").unwrap();
    drop(stdin);
    let mut stderr = second.stderr.take().unwrap();
    let mut stdout = second.stdout.try_clone().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let code = second.wait().unwrap();
    let mut s = String::new();
    stdout.read_to_string(&mut s).unwrap();
    assert_eq!(code, 7);
    assert_eq!(s, "out:two\nout:three\nbye\n");
    assert_eq!(err_reader.join().unwrap(), "err:two\nerr:three\n");
    // Everything also went to the log.
    let log = std::fs::read_to_string(env.rt.container_log_path(&id).unwrap()).unwrap();
    for want in ["stdout F out:one", "stderr F err:three", "stdout F bye"] {
        assert!(log.contains(want), "{want:?} missing from {log}");
    }
    // Attaching to an exited container is refused.
    let err = env
        .rt
        .attach(&id, AttachOptions::default())
        .err()
        .expect("attach to an exited container");
    assert!(format!("{err:#}").contains("not running"), "{err:#}");
}

#[test]
fn attach_to_a_tty_container_resizes_its_terminal() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("attach-tty")).unwrap();
    let mut c = env.container("shell", &["sh", "-c", "read x; stty size; read y"]);
    c.stdin = true;
    c.tty = true;
    let id = env.run(&sb.id, &c);
    let session = env
        .rt
        .attach(
            &id,
            AttachOptions {
                stdin: true,
                tty: true,
            },
        )
        .unwrap();
    assert!(session.stderr.is_none());
    env.rt.resize_container(&id, 123, 45).unwrap();
    session.stdin.as_ref().unwrap().write_all(b"go\n").unwrap();
    let mut out = BufReader::new(session.stdout.try_clone().unwrap());
    let mut seen = String::new();
    while !seen.contains("45 123") {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "EOF; got {seen:?}");
        seen.push_str(&line);
    }
    session
        .stdin
        .as_ref()
        .unwrap()
        .write_all(b"done\n")
        .unwrap();
    assert_eq!(session.wait().unwrap(), 0);
}

#[test]
fn stop_sends_the_image_stop_signal_first() {
    let env = TestEnv::new();
    let sb = env.rt.run_sandbox(&env.sandbox("stopsig")).unwrap();
    // The shell exits 0 on SIGUSR1 only; SIGTERM or SIGKILL would leave 143/137.
    let mut c = env.container(
        "graceful",
        &[
            "sh",
            "-c",
            "trap 'echo bye; exit 0' USR1; echo ready; while true; do sleep 0.05; done",
        ],
    );
    c.image_config.stop_signal = Some("SIGUSR1".into());
    let id = env.run(&sb.id, &c);
    let log = env.rt.container_log_path(&id).unwrap();
    common::wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&log)
            .ok()?
            .contains("ready")
            .then_some(())
    });
    env.rt.stop_container(&id, Duration::from_secs(10)).unwrap();
    let st = env.wait_exit(&id);
    assert_eq!(
        (st.exit_code, st.reason.as_deref()),
        (Some(0), Some("Completed"))
    );
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("stdout F bye"));
}
