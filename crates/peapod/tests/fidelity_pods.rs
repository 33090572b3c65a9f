//! Pod behaviours that must match the kubelet's exactly, found by running clients and tests
//! written elsewhere: envFrom key names, init container readiness, a container's own
//! /etc/hosts, emptyDir modes, configuration errors, and the controlling terminal of
//! `kubectl exec -it`.

mod common;

use common::{apply, eventually, wait_ready, TestServer};

fn jsonpath(s: &TestServer, what: &str, path: &str) -> String {
    s.ok(&["get", what, "-o", &format!("jsonpath={path}")])
}

#[test]
fn env_names_init_readiness_hosts_file_and_empty_dirs() {
    let s = TestServer::start_node();
    apply(
        &s,
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: dashed}
data: {data-1: value-1, data-2: value-2, 1st: first}
---
apiVersion: v1
kind: Secret
metadata: {name: dashed-secret}
stringData: {data-3: value-3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: own-hosts}
data:
  hosts: |
    10.9.9.9 mine.example
---
apiVersion: v1
kind: Pod
metadata: {name: fid}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: prep, image: busybox, imagePullPolicy: IfNotPresent, command: ['true']}
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    # Not through a shell: Debian's busybox 1.35 ash drops variables whose names are not
    # shell identifiers when it execs, whatever the runtime gave it.
    command: [sleep, '3600']
    envFrom:
    - configMapRef: {name: dashed}
    - configMapRef: {name: dashed}
      prefix: p-
    - secretRef: {name: dashed-secret}
    volumeMounts:
    - {name: hosts, mountPath: /etc/hosts, subPath: hosts}
    - {name: mem, mountPath: /mem}
    - {name: disk, mountPath: /disk}
  - name: plain
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
  volumes:
  - name: hosts
    configMap: {name: own-hosts}
  - name: mem
    emptyDir: {medium: Memory}
  - name: disk
    emptyDir: {}
"#,
    );
    wait_ready(&s, "fid");

    // Relaxed names: every key becomes a variable, with and without the prefix.
    let env = s
        .ok(&["exec", "fid", "-c", "app", "--", "cat", "/proc/1/environ"])
        .replace('\0', "\n");
    for want in [
        "1st=first",
        "p-1st=first",
        "data-1=value-1",
        "data-2=value-2",
        "p-data-1=value-1",
        "p-data-2=value-2",
        "data-3=value-3",
    ] {
        assert!(
            env.lines().any(|l| l == want),
            "{want} missing from:\n{env}"
        );
    }

    // A completed init container is ready; it never counts as started.
    assert_eq!(
        jsonpath(&s, "pod/fid", "{.status.initContainerStatuses[0].ready}"),
        "true"
    );

    // A container that mounts its own /etc/hosts keeps it; the other gets the managed one.
    let own = s.ok(&["exec", "fid", "-c", "app", "--", "cat", "/etc/hosts"]);
    assert_eq!(own, "10.9.9.9 mine.example\n");
    let managed = s.ok(&["exec", "fid", "-c", "plain", "--", "cat", "/etc/hosts"]);
    assert!(
        managed.starts_with("# Kubernetes-managed hosts file."),
        "{managed}"
    );

    // emptyDir modes as under the kubelet: the disk medium is a 0777 directory; the memory
    // medium is a tmpfs mounted without a mode option, whose root is the kernel's 1777.
    let modes = s.ok(&[
        "exec", "fid", "-c", "app", "--", "stat", "-c", "%a %n", "/disk", "/mem",
    ]);
    assert_eq!(modes, "777 /disk\n1777 /mem\n");
}

#[test]
fn configuration_failures_are_create_container_config_errors() {
    let s = TestServer::start_node();
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: badsub}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: absolute
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    env: [{name: WHERE, value: /etc}]
    volumeMounts: [{name: v, mountPath: /m, subPathExpr: $(WHERE)}]
  - name: climbs
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    env: [{name: UP, value: ..}]
    volumeMounts: [{name: v, mountPath: /m, subPathExpr: a/$(UP)/$(UP)}]
  - name: missing
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    env: [{name: EMPTY, value: ''}]
    volumeMounts: [{name: v, mountPath: /m, subPathExpr: $(NOPE)/$(EMPTY)}]
  - name: nonroot
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    securityContext: {runAsNonRoot: true}
  - name: fine
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    volumeMounts: [{name: v, mountPath: /m, subPathExpr: logs/$(POD)}]
  volumes:
  - {name: v, emptyDir: {}}
"#,
    );
    let want = [
        (
            "absolute",
            "error SubPath `/etc` must not be an absolute path",
        ),
        (
            "climbs",
            "unable to provision SubPath `a/../..`: must not contain '..'",
        ),
        ("missing", "missing value for EMPTY, NOPE"),
        (
            "nonroot",
            "container has runAsNonRoot and image will run as root (pod: \"badsub_default(",
        ),
    ];
    for (name, message) in want {
        let path = format!("{{.status.containerStatuses[?(@.name==\"{name}\")].state.waiting}}");
        eventually(60, &format!("{name} waiting with a config error"), || {
            let waiting = jsonpath(&s, "pod/badsub", &path);
            (waiting.contains("\"reason\":\"CreateContainerConfigError\"")
                && waiting.contains(serde_json::to_string(message).unwrap().trim_matches('"')))
            .then_some(())
        });
    }
    // The container whose subPathExpr expands runs, with the directory made in the volume.
    eventually(60, "fine running", || {
        let running = jsonpath(
            &s,
            "pod/badsub",
            "{.status.containerStatuses[?(@.name==\"fine\")].state.running}",
        );
        (!running.is_empty()).then_some(())
    });
}

/// `script` gives kubectl a terminal of its own, as an interactive user has.
fn in_terminal(s: &TestServer, kubectl_args: &str, input: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let cmd = format!(
        "KUBECONFIG={} KUBECACHEDIR={} kubectl {kubectl_args}",
        s.kubeconfig().display(),
        s.dir.path().join("kubecache").display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    // Keep stdin open until the remote shell has read it; it exits on its own.
    let out = std::thread::spawn(move || child.wait_with_output().unwrap());
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(stdin);
    let out = out.join().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn exec_and_attach_with_a_tty_get_a_controlling_terminal() {
    let s = TestServer::start_node();
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: shell
    image: busybox
    imagePullPolicy: IfNotPresent
    tty: true
    stdin: true
    command: [sh, -c, 'read -r a b c d e f tty rest < /proc/self/stat; echo "tty_nr=$tty"; exec sleep 3600']
"#,
    );
    wait_ready(&s, "term");
    // A container started with a tty has it as its controlling terminal (tty_nr != 0).
    let log = eventually(30, "the container's tty line", || {
        let log = s.ok(&["logs", "term"]);
        log.contains("tty_nr=").then_some(log)
    });
    assert!(
        !log.contains("tty_nr=0\r") && !log.contains("tty_nr=0\n"),
        "no controlling terminal: {log:?}"
    );

    // An interactive shell through `kubectl exec -it` has job control.
    let out = in_terminal(
        &s,
        "exec -it term -- sh -i",
        // Split so that the terminal's echo of this line does not contain the marker.
        "read -r a b c d e f tty rest < /proc/self/stat; echo \"T\"\"TY=$tty\"; exit\n",
    );
    assert!(
        !out.contains("can't access tty"),
        "no job control in the exec'd shell: {out:?}"
    );
    let tty = out
        .split("TTY=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("")
        .to_string();
    assert!(
        !tty.is_empty() && tty != "0" && tty.chars().all(|c| c.is_ascii_digit()),
        "exec'd shell has no controlling terminal: {out:?}"
    );
}

#[test]
fn deleting_a_job_releases_its_running_pods() {
    let s = TestServer::start_node();
    apply(
        &s,
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: longjob}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
"#,
    );
    let pod = eventually(60, "the job's pod running", || {
        let out = s.ok(&[
            "get",
            "pods",
            "-l",
            "job-name=longjob",
            "-o",
            "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.name}{end}",
        ]);
        (!out.is_empty()).then_some(out)
    });
    assert!(
        jsonpath(&s, &format!("pod/{pod}"), "{.metadata.finalizers}")
            .contains("batch.kubernetes.io/job-tracking")
    );
    // Background propagation (kubectl's default): the Job goes at once, its pods after it.
    s.ok(&["delete", "job", "longjob", "--wait=false"]);
    eventually(60, "the orphaned job pod removed", || {
        let out = s.kubectl(&["get", "pod", &pod, "-o", "name"]);
        (!out.status.success()).then_some(())
    });
}
