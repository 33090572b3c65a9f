//! Every example of the seed notes (shared/seeds), replayed with the stock kubectl against a
//! peapod server with its embedded node agent: real sandboxes, real containers, real network.
//! busybox stands in for nginx/tomcat/debian.

mod common;

use common::{apply, eventually, wait_ready, TestServer};

fn exec(s: &TestServer, pod: &str, container: &str, cmd: &str) -> String {
    s.ok(&["exec", pod, "-c", container, "--", "sh", "-c", cmd])
}

fn phase(s: &TestServer, pod: &str) -> String {
    s.ok(&["get", "pod", pod, "-o", "jsonpath={.status.phase}"])
}

#[test]
fn two_containers_share_one_network_namespace() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: twins}
spec:
  containers:
  - {name: test1, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'httpd -f -p 8080 -h /etc'], stdin: true, tty: true}
  - {name: test2, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
",
    );
    wait_ready(&s, "twins");
    let probe = "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; cat /sys/class/net/eth0/address; hostname";
    let a = exec(&s, "twins", "test1", probe);
    let b = exec(&s, "twins", "test2", probe);
    assert_eq!(a, b, "containers see different network/uts namespaces");
    let mnt_a = exec(&s, "twins", "test1", "readlink /proc/self/ns/mnt");
    let mnt_b = exec(&s, "twins", "test2", "readlink /proc/self/ns/mnt");
    assert_ne!(mnt_a, mnt_b);
    let ip = s.ok(&["get", "pod", "twins", "-o", "jsonpath={.status.podIP}"]);
    assert!(exec(&s, "twins", "test1", "ip -4 addr show eth0").contains(&ip));
    // localhost between the two containers.
    assert!(exec(
        &s,
        "twins",
        "test2",
        "wget -qO- http://127.0.0.1:8080/hostname"
    )
    .contains("twins"));
    let wide = s.ok(&["get", "pod", "twins", "-o", "wide"]);
    assert!(
        wide.contains("2/2") && wide.contains("Running") && wide.contains(&ip),
        "{wide}"
    );
}

#[test]
fn shared_volumes_hostpath_and_emptydir() {
    let s = TestServer::start_node();
    let host_dir = s.dir.path().join("shared");
    apply(
        &s,
        &format!(
            "apiVersion: v1
kind: Pod
metadata: {{name: two-containers}}
spec:
  restartPolicy: Never
  volumes:
  - name: shared-data
    hostPath: {{path: {}, type: DirectoryOrCreate}}
  - name: page
    emptyDir: {{}}
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'httpd -f -p 80 -h /usr/share/nginx/html']
    volumeMounts:
    - {{name: page, mountPath: /usr/share/nginx/html}}
    - {{name: shared-data, mountPath: /data}}
  - name: writer
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo Hello from the debian container > /pod-data/index.html; echo shared > /data/note; sleep 3600']
    volumeMounts:
    - {{name: page, mountPath: /pod-data}}
    - {{name: shared-data, mountPath: /data}}
",
            host_dir.display()
        ),
    );
    wait_ready(&s, "two-containers");
    let page = eventually(20, "page served", || {
        let out = s.kubectl(&[
            "exec",
            "two-containers",
            "-c",
            "writer",
            "--",
            "wget",
            "-qO-",
            "http://localhost/",
        ]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    });
    assert!(page.contains("Hello from the debian container"));
    assert_eq!(
        std::fs::read_to_string(host_dir.join("note"))
            .unwrap()
            .trim(),
        "shared"
    );
    assert_eq!(
        exec(&s, "two-containers", "web", "cat /data/note").trim(),
        "shared"
    );
}

#[test]
fn init_containers_run_first_and_in_order() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: init-demo}
spec:
  volumes: [{name: workdir, emptyDir: {}}]
  initContainers:
  - {name: install, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'sleep 1; touch /data/test.txt; echo sample.war > /data/order'], volumeMounts: [{name: workdir, mountPath: /data}]}
  - {name: second, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo second >> /data/order'], volumeMounts: [{name: workdir, mountPath: /data}]}
  containers:
  - {name: tomcat, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo app >> /data/order; sleep 3600'], volumeMounts: [{name: workdir, mountPath: /data}]}
",
    );
    wait_ready(&s, "init-demo");
    assert!(exec(&s, "init-demo", "tomcat", "ls /data").contains("test.txt"));
    assert_eq!(
        exec(&s, "init-demo", "tomcat", "cat /data/order"),
        "sample.war\nsecond\napp\n"
    );
    let st = s.ok(&[
        "get",
        "pod",
        "init-demo",
        "-o",
        "jsonpath={.status.initContainerStatuses[*].state.terminated.reason}",
    ]);
    assert_eq!(st, "Completed Completed");
}

#[test]
fn host_aliases_hostname_and_share_process_namespace() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: hostaliases-pod}
spec:
  shareProcessNamespace: true
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.remote, bar.remote]
  containers:
  - {name: shell, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600'], stdin: true, tty: true}
  - {name: other, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'sleep 3601']}
",
    );
    wait_ready(&s, "hostaliases-pod");
    let hosts = exec(&s, "hostaliases-pod", "shell", "cat /etc/hosts");
    assert!(
        hosts.contains("10.1.2.3\tfoo.remote\tbar.remote")
            || hosts.contains("10.1.2.3 foo.remote bar.remote"),
        "{hosts}"
    );
    assert!(hosts.contains("hostaliases-pod"), "{hosts}");
    let ps = exec(&s, "hostaliases-pod", "shell", "ps -o pid,args");
    assert!(
        ps.contains("sleep 3601"),
        "other container's processes not visible:\n{ps}"
    );
    let first = ps.lines().nth(1).unwrap_or_default().trim().to_string();
    assert!(
        first.starts_with("1 "),
        "PID 1 should be the pause process:\n{ps}"
    );
}

#[test]
fn restart_policies_and_phases() {
    let s = TestServer::start_node();
    let pod = |name: &str, policy: &str, cmd: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  restartPolicy: {policy}\n  containers:\n  - {{name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, '{cmd}']}}\n")
    };
    apply(&s, &pod("ok-never", "Never", "exit 0"));
    apply(&s, &pod("fail-never", "Never", "exit 3"));
    apply(&s, &pod("fail-onfailure", "OnFailure", "exit 1"));
    apply(&s, &pod("done-always", "Always", "exit 0"));
    eventually(60, "Succeeded", || {
        (phase(&s, "ok-never") == "Succeeded").then_some(())
    });
    eventually(60, "Failed", || {
        (phase(&s, "fail-never") == "Failed").then_some(())
    });
    let code = s.ok(&[
        "get",
        "pod",
        "fail-never",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}",
    ]);
    assert_eq!(code, "3");
    let table = s.ok(&["get", "pods"]);
    assert!(
        table.contains("Completed") && table.contains("Error"),
        "{table}"
    );
    // OnFailure and Always restart, with CrashLoopBackOff.
    for name in ["fail-onfailure", "done-always"] {
        eventually(60, "restarts", || {
            let r: u32 = s
                .ok(&[
                    "get",
                    "pod",
                    name,
                    "-o",
                    "jsonpath={.status.containerStatuses[0].restartCount}",
                ])
                .parse()
                .unwrap_or(0);
            (r >= 1).then_some(())
        });
        assert_eq!(phase(&s, name), "Running");
    }
    eventually(60, "CrashLoopBackOff", || {
        s.ok(&["get", "pods", "fail-onfailure"])
            .contains("CrashLoopBackOff")
            .then_some(())
    });
}

#[test]
fn liveness_probe_restarts_and_readiness_gates() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: liveness-exec, labels: {test: liveness}}
spec:
  containers:
  - name: liveness
    image: busybox
    imagePullPolicy: IfNotPresent
    args: [/bin/sh, -c, 'touch /tmp/healthy; sleep 4; rm -rf /tmp/healthy; sleep 600']
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 2
  - name: ready-later
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 3; touch /tmp/ready; sleep 600']
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
",
    );
    eventually(60, "liveness restart", || {
        let r: u32 = s
            .ok(&[
                "get",
                "pod",
                "liveness-exec",
                "-o",
                "jsonpath={.status.containerStatuses[?(@.name==\"liveness\")].restartCount}",
            ])
            .parse()
            .unwrap_or(0);
        (r >= 1).then_some(())
    });
    // Events are written after the status that caused them: wait for them too.
    eventually(10, "Unhealthy event", || {
        let events = s.ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=liveness-exec",
        ]);
        (events.contains("Unhealthy") && events.contains("Liveness probe failed")).then_some(())
    });
    let desc = s.ok(&["describe", "pod", "liveness-exec"]);
    assert!(
        desc.contains("Killing") || desc.contains("Unhealthy"),
        "{desc}"
    );
}

#[test]
fn node_selector_waits_for_a_labelled_node_and_node_name_binds() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: ssd-pod}
spec:
  nodeSelector: {disktype: ssd}
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
",
    );
    let msg = eventually(30, "FailedScheduling", || {
        let ev = s.ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=ssd-pod,reason=FailedScheduling",
            "-o",
            "jsonpath={.items[*].message}",
        ]);
        (!ev.is_empty()).then_some(ev)
    });
    assert!(
        msg.contains("0/1 nodes are available") && msg.contains("node affinity/selector"),
        "{msg}"
    );
    assert_eq!(phase(&s, "ssd-pod"), "Pending");
    let node = s.ok(&["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    s.ok(&["label", "node", &node, "disktype=ssd"]);
    wait_ready(&s, "ssd-pod");
    assert_eq!(
        s.ok(&["get", "pod", "ssd-pod", "-o", "jsonpath={.spec.nodeName}"]),
        node
    );
    // spec.nodeName skips the scheduler.
    apply(
        &s,
        &format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: pinned}}\nspec:\n  nodeName: {node}\n  containers:\n  - {{name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}}\n"),
    );
    wait_ready(&s, "pinned");
}

#[test]
fn pod_requests_are_summed_for_scheduling() {
    let s = TestServer::start_node();
    let alloc = s.ok(&[
        "get",
        "nodes",
        "-o",
        "jsonpath={.items[0].status.allocatable.memory}",
    ]);
    let kib: u64 = alloc
        .trim_end_matches("Ki")
        .parse()
        .expect("allocatable memory in Ki");
    // Each container asks for 40% of the node: alone it fits, three together do not.
    let each = kib * 4 / 10;
    let c = |n: &str| {
        format!("  - {{name: {n}, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600'], resources: {{requests: {{memory: {each}Ki}}}}}}\n")
    };
    apply(
        &s,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: big}}\nspec:\n  containers:\n{}{}{}",
            c("a"),
            c("b"),
            c("c")
        ),
    );
    let msg = eventually(30, "FailedScheduling", || {
        let ev = s.ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=big,reason=FailedScheduling",
            "-o",
            "jsonpath={.items[*].message}",
        ]);
        (!ev.is_empty()).then_some(ev)
    });
    assert!(msg.contains("Insufficient memory"), "{msg}");
    assert_eq!(phase(&s, "big"), "Pending");
}

#[test]
fn lifecycle_hooks_run() {
    let s = TestServer::start_node();
    let host_dir = s.dir.path().join("hooks");
    std::fs::create_dir_all(&host_dir).unwrap();
    apply(
        &s,
        &format!(
            "apiVersion: v1
kind: Pod
metadata: {{name: lifecycle-demo}}
spec:
  volumes: [{{name: out, hostPath: {{path: {}}}}}]
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    volumeMounts: [{{name: out, mountPath: /out}}]
    lifecycle:
      postStart:
        exec: {{command: [sh, -c, 'echo Hello from the postStart handler > /out/message']}}
      preStop:
        exec: {{command: [sh, -c, 'echo stopping > /out/prestop']}}
",
            host_dir.display()
        ),
    );
    wait_ready(&s, "lifecycle-demo");
    assert_eq!(
        std::fs::read_to_string(host_dir.join("message"))
            .unwrap()
            .trim(),
        "Hello from the postStart handler"
    );
    s.ok(&["delete", "pod", "lifecycle-demo", "--timeout=60s"]);
    assert_eq!(
        std::fs::read_to_string(host_dir.join("prestop"))
            .unwrap()
            .trim(),
        "stopping"
    );
}

#[test]
fn deployment_replaces_deleted_pods() {
    let s = TestServer::start_node();
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=2",
        "--",
        "sleep",
        "3600",
    ]);
    // `kubectl create deployment` leaves imagePullPolicy to the server (Always for untagged).
    s.ok(&["patch", "deployment", "web", "--type=json", "-p", r#"[{"op":"add","path":"/spec/template/spec/containers/0/imagePullPolicy","value":"IfNotPresent"}]"#]);
    let out = s.kubectl(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = s.ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    let victim = names.split_whitespace().next().unwrap().to_string();
    s.ok(&["delete", "pod", &victim, "--timeout=60s"]);
    eventually(60, "replacement pod", || {
        let now = s.ok(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "--field-selector=status.phase=Running",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ]);
        let list: Vec<&str> = now.split_whitespace().collect();
        (list.len() == 2 && !list.contains(&victim.as_str())).then_some(())
    });
}
