//! Pod lifecycle on the node through kubectl: startup/readiness/liveness probes (exec, httpGet,
//! tcpSocket), httpGet and failing hooks, activeDeadlineSeconds, node admission, image pull
//! errors, and `exec -it` on a real terminal.

mod common;

use std::process::Command;

use common::{apply, eventually, free_port, TestServer};

fn jsonpath(s: &TestServer, pod: &str, path: &str) -> String {
    s.ok(&["get", "pod", pod, "-o", &format!("jsonpath={path}")])
}

fn event_reasons(s: &TestServer, pod: &str) -> String {
    s.ok(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={pod}"),
        "-o",
        "jsonpath={range .items[*]}{.reason}={.message}{\"\\n\"}{end}",
    ])
}

#[test]
fn startup_readiness_and_liveness_probes() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www; exec httpd -f -p 8080 -h /www']
    startupProbe:
      exec: {command: [test, -f, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 120
    readinessProbe:
      httpGet: {path: /ready, port: web-port}
      periodSeconds: 1
      failureThreshold: 1
    livenessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
    ports: [{name: web-port, containerPort: 8080}]
",
    );
    let state = |s: &TestServer| {
        jsonpath(
            s,
            "probed",
            "{.status.containerStatuses[0].started} {.status.containerStatuses[0].ready}",
        )
    };
    eventually(60, "running", || {
        (jsonpath(&s, "probed", "{.status.phase}") == "Running").then_some(())
    });
    // Until the startup probe passes, the other probes don't run and the container is not started.
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(state(&s), "false false");
    s.ok(&["exec", "probed", "--", "touch", "/tmp/started"]);
    eventually(20, "started", || (state(&s) == "true false").then_some(()));
    // Readiness over HTTP on a named port: 404 until the page exists.
    eventually(10, "Readiness 404 event", || {
        let events = event_reasons(&s, "probed");
        events
            .contains("Unhealthy=Readiness probe failed: HTTP probe failed with statuscode: 404")
            .then_some(())
    });
    s.ok(&["exec", "probed", "--", "sh", "-c", "echo ok > /www/ready"]);
    eventually(20, "ready", || (state(&s) == "true true").then_some(()));
    let ready = s.ok(&["get", "pod", "probed", "--no-headers"]);
    assert!(ready.contains("1/1"), "{ready}");
    s.ok(&["exec", "probed", "--", "rm", "/www/ready"]);
    eventually(20, "unready", || (state(&s) == "true false").then_some(()));
    let cond = jsonpath(
        &s,
        "probed",
        "{.status.conditions[?(@.type==\"Ready\")].status}",
    );
    assert_eq!(cond, "False");
    // The tcpSocket liveness probe kept passing all along.
    assert_eq!(
        jsonpath(&s, "probed", "{.status.containerStatuses[0].restartCount}"),
        "0"
    );
}

#[test]
fn http_hooks_and_a_failing_post_start() {
    let s = TestServer::start_node();
    // `client`'s postStart and preStop call `web`'s httpd over the pod's shared network; httpd
    // -vv logs every URL it serves. The liveness probe fails on demand, so the kubelet runs
    // preStop before killing the container.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www; exec httpd -f -vv -p 8080 -h /www']
  - name: client
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '1000']
    livenessProbe:
      exec: {command: [sh, -c, 'test ! -f /tmp/die']}
      periodSeconds: 1
    lifecycle:
      postStart:
        httpGet: {path: /post-start, port: 8080}
      preStop:
        httpGet: {path: /pre-stop, port: 8080}
",
    );
    let web_log = |s: &TestServer| {
        String::from_utf8_lossy(&s.kubectl(&["logs", "hooks", "-c", "web"]).stdout).to_string()
    };
    eventually(60, "post-start request", || {
        web_log(&s).contains("url:/post-start").then_some(())
    });
    s.ok(&["exec", "hooks", "-c", "client", "--", "touch", "/tmp/die"]);
    eventually(60, "pre-stop request and restart", || {
        let restarts = jsonpath(
            &s,
            "hooks",
            "{.status.containerStatuses[?(@.name==\"client\")].restartCount}",
        );
        (web_log(&s).contains("url:/pre-stop") && restarts == "1").then_some(())
    });

    // A postStart that fails kills the container: FailedPostStartHook, and it is restarted.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  # `sleep` as PID 1 ignores SIGTERM: each kill waits out the grace period.
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '1000']
    lifecycle:
      postStart:
        exec: {command: [sh, -c, 'echo hook broke; exit 3']}
",
    );
    let events = eventually(60, "FailedPostStartHook", || {
        let e = event_reasons(&s, "badhook");
        e.contains("FailedPostStartHook").then_some(e)
    });
    assert!(events.contains("hook broke"), "{events}");
    let waiting = jsonpath(
        &s,
        "badhook",
        "{.status.containerStatuses[0].state.waiting.reason}",
    );
    assert!(
        ["PostStartHookError", "CrashLoopBackOff", ""].contains(&waiting.as_str()),
        "{waiting}"
    );
    eventually(60, "restart after the failed hook", || {
        let n: u32 = jsonpath(&s, "badhook", "{.status.containerStatuses[0].restartCount}")
            .parse()
            .unwrap_or(0);
        (n >= 1).then_some(())
    });
    assert_ne!(
        jsonpath(&s, "badhook", "{.status.containerStatuses[0].ready}"),
        "true"
    );
}

#[test]
fn deadline_admission_and_image_errors() {
    let s = TestServer::start_node();
    let node = s.ok(&["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    let closed = free_port();
    apply(
        &s,
        &format!(
            "apiVersion: v1
kind: Pod
metadata: {{name: deadline}}
spec:
  activeDeadlineSeconds: 2
  containers:
  - {{name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '1000']}}
---
apiVersion: v1
kind: Pod
metadata: {{name: greedy}}
spec:
  nodeName: {node}
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '1000']
    resources: {{requests: {{cpu: '100000'}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: neverpull}}
spec:
  containers:
  - {{name: main, image: peapod.test/absent:1, imagePullPolicy: Never}}
---
apiVersion: v1
kind: Pod
metadata: {{name: badpull}}
spec:
  containers:
  - {{name: main, image: '127.0.0.1:{closed}/absent:1', imagePullPolicy: IfNotPresent}}
"
        ),
    );
    eventually(60, "DeadlineExceeded", || {
        (jsonpath(&s, "deadline", "{.status.phase} {.status.reason}") == "Failed DeadlineExceeded")
            .then_some(())
    });
    assert_eq!(
        jsonpath(&s, "deadline", "{.status.message}"),
        "Pod was active on the node longer than the specified deadline"
    );
    // Bound by nodeName past the scheduler, the node itself refuses it.
    eventually(60, "OutOfcpu", || {
        (jsonpath(&s, "greedy", "{.status.phase} {.status.reason}") == "Failed OutOfcpu")
            .then_some(())
    });
    eventually(60, "ErrImageNeverPull", || {
        (jsonpath(
            &s,
            "neverpull",
            "{.status.containerStatuses[0].state.waiting.reason}",
        ) == "ErrImageNeverPull")
            .then_some(())
    });
    // Nothing listens on that loopback port: the pull fails, then backs off.
    eventually(90, "ErrImagePull then ImagePullBackOff", || {
        let r = jsonpath(
            &s,
            "badpull",
            "{.status.containerStatuses[0].state.waiting.reason}",
        );
        let events = event_reasons(&s, "badpull");
        (r == "ImagePullBackOff"
            && events.contains("Failed=Error: ErrImagePull")
            && events.contains("BackOff=Back-off pulling image"))
        .then_some(())
    });
    let printed = s.ok(&["get", "pods", "--no-headers"]);
    // As kubectl prints them (a killed container shows as Error, as upstream).
    for want in ["ErrImageNeverPull", "OutOfcpu", "ImagePullBackOff"] {
        assert!(printed.contains(want), "{want} missing:\n{printed}");
    }
}

#[test]
fn exec_with_a_terminal() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '1000']}
",
    );
    common::wait_ready(&s, "term");
    // kubectl wants a real terminal for -t: `script` gives it one, sized here. The command
    // waits a little as kubectl sends the size just after the process starts.
    let kubectl = format!(
        "stty rows 33 cols 111; KUBECONFIG={} KUBECACHEDIR={} kubectl exec -it term -- \
         sh -c 'sleep 0.5; tty; stty size; exit 5'",
        s.kubeconfig().display(),
        s.data_dir().join("kubecache").display()
    );
    let out = Command::new("script")
        .args(["-qec", &kubectl, "/dev/null"])
        .output()
        .expect("run script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/0"), "{text}");
    assert!(text.contains("33 111"), "{text}");
    assert_eq!(out.status.code(), Some(5), "{text}");
}

#[test]
fn a_pod_removed_from_the_api_frees_the_node_at_once() {
    let s = TestServer::start_node();
    let node = s.ok(&["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    let cpu = s.ok(&[
        "get",
        "node",
        &node,
        "-o",
        "jsonpath={.status.allocatable.cpu}",
    ]);
    let milli: u64 = match cpu.strip_suffix('m') {
        Some(m) => m.parse().unwrap(),
        None => cpu.parse::<u64>().unwrap() * 1000,
    };
    // Each pod wants 3/4 of the node: two can't run at once. `sleep` ignores SIGTERM, so the
    // first one's containers take the kubelet's minimum 2 s to stop after it is removed.
    let manifest = |name: &str| {
        format!(
            "apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '1000']
    resources: {{requests: {{cpu: {}m}}}}
",
            milli * 3 / 4
        )
    };
    apply(&s, &manifest("first"));
    common::wait_ready(&s, "first");
    // Grace period 0: the API removes it at once; the node must not count it any more.
    s.ok(&["delete", "pod", "first", "--wait=false"]);
    apply(&s, &manifest("second"));
    common::wait_ready(&s, "second");
}

#[test]
fn eviction_thresholds_set_node_pressure_taints_and_allocatable() {
    // Less than 100% of the disk is always available: the node is under disk pressure.
    let s = TestServer::start_node_with_eviction(
        "--eviction-hard=nodefs.available<100%,memory.available<1Gi",
    );
    let node = s.ok(&["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    let field = |path: &str| s.ok(&["get", "node", &node, "-o", &format!("jsonpath={path}")]);
    let condition = |kind: &str| {
        field(&format!(
            "{{.status.conditions[?(@.type==\"{kind}\")].status}}/{{.status.conditions[?(@.type==\"{kind}\")].reason}}"
        ))
    };
    eventually(30, "DiskPressure", || {
        (condition("DiskPressure") == "True/KubeletHasDiskPressure").then_some(())
    });
    // Naming thresholds drops the defaults of the others: no PID threshold is left.
    assert_eq!(condition("PIDPressure"), "False/KubeletHasSufficientPID");
    assert_eq!(
        condition("MemoryPressure"),
        "False/KubeletHasSufficientMemory"
    );
    assert_eq!(condition("Ready"), "True/KubeletReady");

    // Allocatable holds back what the thresholds keep available.
    let ki = |q: String| -> u64 { q.strip_suffix("Ki").expect("Ki quantity").parse().unwrap() };
    let capacity = ki(field("{.status.capacity.memory}"));
    let allocatable = ki(field("{.status.allocatable.memory}"));
    assert_eq!(capacity - allocatable, 1 << 20, "1Gi held back");
    assert_eq!(field("{.status.allocatable.ephemeral-storage}"), "0");

    // The node lifecycle controller taints the node; a pod that does not tolerate it waits.
    eventually(30, "disk-pressure taint", || {
        field("{.spec.taints[*].key}")
            .contains("node.kubernetes.io/disk-pressure")
            .then_some(())
    });
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: waits}
spec:
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '1000']}
",
    );
    eventually(30, "FailedScheduling for the taint", || {
        event_reasons(&s, "waits")
            .lines()
            .any(|l| l.starts_with("FailedScheduling=") && l.contains("disk-pressure"))
            .then_some(())
    });
    assert_eq!(jsonpath(&s, "waits", "{.status.phase}"), "Pending");
    assert_eq!(jsonpath(&s, "waits", "{.spec.nodeName}"), "");

    // A threshold on a signal peapod does not measure is refused before anything starts.
    let out = Command::new(env!("CARGO_BIN_EXE_peapod"))
        .args(["agent", "--server", "https://127.0.0.1:1", "--token-file"])
        .arg(s.data_dir().join("no-such-token"))
        .arg("--eviction-hard=imagefs.available<15%")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("unsupported signal \"imagefs.available\""),
        "{err}"
    );
}
