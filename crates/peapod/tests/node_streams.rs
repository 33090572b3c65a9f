//! kubectl's streaming commands through the API server to the node agent (logs, exec, cp,
//! port-forward), hostPort, OOMKilled, and an agent restart that keeps containers running.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::{apply, eventually, free_port, wait_ready, TestServer};

#[test]
fn logs_exec_cp_and_port_forward() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo line1; echo line2; echo oops >&2; mkdir -p /www; echo served > /www/index.html; httpd -f -p 8080 -h /www']
",
    );
    wait_ready(&s, "web");
    let logs = eventually(20, "logs", || {
        let l = s.ok(&["logs", "web"]);
        l.contains("line2").then_some(l)
    });
    assert!(
        logs.contains("line1\nline2") && logs.contains("oops"),
        "{logs}"
    );
    assert_eq!(s.ok(&["logs", "web", "--tail=1"]).lines().count(), 1);
    let stamped = s.ok(&["logs", "web", "--timestamps"]);
    assert!(
        stamped.lines().all(|l| l
            .split(' ')
            .next()
            .is_some_and(|t| t.contains('T') && t.ends_with('Z'))),
        "{stamped}"
    );
    // exec with exit code, and with stdin.
    let out = s.kubectl(&["exec", "web", "--", "sh", "-c", "echo out; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    let mut child = s
        .kubectl_cmd(&["exec", "-i", "web", "--", "wc", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&[b'x'; 100_000])
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100000");
    // cp both ways.
    let local = s.write("payload.txt", "copied through tar\n");
    s.ok(&["cp", local.to_str().unwrap(), "web:/tmp/payload.txt"]);
    assert_eq!(
        s.ok(&["exec", "web", "--", "cat", "/tmp/payload.txt"]),
        "copied through tar\n"
    );
    let back = s.dir.path().join("back.txt");
    s.ok(&["cp", "web:/tmp/payload.txt", back.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&back).unwrap(),
        "copied through tar\n"
    );
    // port-forward (SPDY over WebSocket) to the pod's port.
    let port = free_port();
    let mut pf = s
        .kubectl_cmd(&["port-forward", "pod/web", &format!("{port}:8080")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let body = eventually(20, "port-forward", || {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        conn.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
        let mut resp = String::new();
        conn.read_to_string(&mut resp).ok()?;
        resp.contains("served").then_some(resp)
    });
    let _ = pf.kill();
    let _ = pf.wait();
    assert!(body.starts_with("HTTP/1."), "{body}");
}

#[test]
fn host_port_reaches_the_pod_on_localhost() {
    let s = TestServer::start_node();
    let host_port = free_port();
    apply(
        &s,
        &format!(
            "apiVersion: v1
kind: Pod
metadata: {{name: tomcat}}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /w; echo tomcat > /w/index.html; httpd -f -p 8080 -h /w']
    ports: [{{containerPort: 8080, hostPort: {host_port}}}]
"
        ),
    );
    wait_ready(&s, "tomcat");
    let resp = eventually(20, "hostPort", || {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", host_port)).ok()?;
        conn.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
        let mut resp = String::new();
        conn.read_to_string(&mut resp).ok()?;
        resp.contains("tomcat").then_some(resp)
    });
    assert!(resp.starts_with("HTTP/1."));
}

#[test]
fn memory_limit_oom_kills() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'head -c 200m /dev/zero | tail']
    resources: {limits: {memory: 32Mi}}
",
    );
    let reason = eventually(60, "OOMKilled", || {
        let r = s.ok(&[
            "get",
            "pod",
            "hog",
            "-o",
            "jsonpath={.status.containerStatuses[0].state.terminated.reason}",
        ]);
        (!r.is_empty()).then_some(r)
    });
    assert_eq!(reason, "OOMKilled");
    assert!(s.ok(&["get", "pod", "hog"]).contains("OOMKilled"));
}

#[test]
fn agent_restart_keeps_containers_running() {
    let mut s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: steady}
spec:
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
",
    );
    wait_ready(&s, "steady");
    let q = "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].state.running.startedAt}";
    let before = s.ok(&["get", "pod", "steady", "-o", q]);
    // kill -9 the whole server (API server and agent); the pod's supervisor survives.
    s.restart();
    eventually(60, "node Ready again", || {
        let out = s.kubectl(&[
            "get",
            "pods",
            "steady",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ]);
        (String::from_utf8_lossy(&out.stdout) == "True").then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    let after = s.ok(&["get", "pod", "steady", "-o", q]);
    assert_eq!(before, after, "the container was restarted");
    assert_eq!(
        s.ok(&[
            "get",
            "pod",
            "steady",
            "-o",
            "jsonpath={.status.containerStatuses[0].restartCount}"
        ]),
        "0"
    );
    assert_eq!(
        s.ok(&["exec", "steady", "--", "echo", "alive"]).trim(),
        "alive"
    );
}

#[test]
fn attach_and_run_interactive() {
    let s = TestServer::start_node();
    // `kubectl run -i`: the pod gets stdin + stdinOnce, kubectl attaches and pipes its input;
    // closing it ends the container's stdin, so `cat` finishes.
    let out = s.apply_stdin(
        &[
            "run",
            "talk",
            "-i",
            "--restart=Never",
            "--image=busybox",
            "--image-pull-policy=IfNotPresent",
            "--",
            "sh",
            "-c",
            "read a; echo got:$a; cat; echo done",
        ],
        "hello\nrest\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("got:hello\nrest\ndone"),
        "{stdout} / {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = s.ok(&[
        "get",
        "pod",
        "talk",
        "-o",
        "jsonpath={.spec.containers[0].stdin} {.spec.containers[0].stdinOnce}",
    ]);
    assert_eq!(spec, "true true");

    // `kubectl attach` to a running container streams what it prints from then on; the
    // container keeps running after kubectl goes away.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done']
",
    );
    wait_ready(&s, "ticker");
    let mut attach = s
        .kubectl_cmd(&["attach", "ticker", "-c", "main"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let mut seen = String::new();
    let mut stdout = attach.stdout.take().unwrap();
    while seen.matches("tick").count() < 3 {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "attach ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    attach.kill().unwrap();
    let _ = attach.wait();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let st = s.ok(&[
        "get",
        "pod",
        "ticker",
        "-o",
        "jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}",
    ]);
    assert_eq!(st, "Running 0");
}

#[test]
fn logs_previous_follow_since_and_limit() {
    let s = TestServer::start_node();
    // Each instance prints its start count, then exits 1: `--previous` is the one before.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: counter}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: state, emptyDir: {}}]
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    volumeMounts: [{name: state, mountPath: /state}]
    command: [sh, -c, 'echo x >> /state/runs; n=$(wc -l < /state/runs); echo run $n; for i in 1 2 3; do echo tick $n.$i; sleep 0.3; done; exit 1']
",
    );
    eventually(90, "a restart", || {
        let n: u32 = s
            .ok(&[
                "get",
                "pod",
                "counter",
                "-o",
                "jsonpath={.status.containerStatuses[0].restartCount}",
            ])
            .parse()
            .unwrap_or(0);
        (n >= 1).then_some(())
    });
    let previous = s.ok(&["logs", "counter", "--previous"]);
    assert!(previous.starts_with("run 1\ntick 1.1\n"), "{previous}");
    assert!(previous.ends_with("tick 1.3\n"), "{previous}");
    // The current instance: run 2 (or later), never run 1's lines.
    let current = eventually(30, "current logs", || {
        let l = String::from_utf8_lossy(&s.kubectl(&["logs", "counter"]).stdout).to_string();
        (!l.is_empty()).then_some(l)
    });
    assert!(
        !current.contains("run 1\n") && current.starts_with("run "),
        "{current}"
    );
    assert_eq!(
        s.ok(&["logs", "counter", "--previous", "--limit-bytes=5"]),
        "run 1"
    );
    assert!(s
        .ok(&["logs", "counter", "--previous", "--since=1h"])
        .contains("tick 1.2"));

    // `-f` streams until the container exits, then kubectl returns by itself.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: finite}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 2; for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done']
",
    );
    eventually(60, "finite running", || {
        (s.ok(&["get", "pod", "finite", "-o", "jsonpath={.status.phase}"]) == "Running")
            .then_some(())
    });
    let followed = s.ok(&["logs", "-f", "finite"]);
    assert_eq!(followed, "line 1\nline 2\nline 3\nline 4\nline 5\n");
}
