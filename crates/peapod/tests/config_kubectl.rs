//! Seed note 003's "special volumes" replayed with the stock kubectl against a peapod server
//! with its embedded node agent: Secrets, ConfigMaps, the Downward API, projected volumes, the
//! default ServiceAccount token and environment variables, all inside real containers.

mod common;

use common::{apply, eventually, wait_ready, TestServer};

fn exec(s: &TestServer, pod: &str, cmd: &str) -> String {
    s.ok(&["exec", pod, "--", "sh", "-c", cmd])
}

/// Polls a command inside the pod until its output satisfies `want`; returns that output.
fn exec_until(
    s: &TestServer,
    secs: u64,
    pod: &str,
    cmd: &str,
    want: impl Fn(&str) -> bool,
) -> String {
    let mut last = String::new();
    let found = eventually_opt(secs, || {
        let out = s.kubectl(&["exec", pod, "--", "sh", "-c", cmd]);
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && want(&last)).then(|| last.clone())
    });
    found.unwrap_or_else(|| panic!("`{cmd}` in {pod} never matched; last output: {last:?}"))
}

fn eventually_opt<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// HTTP status of a list request to the API server with only the given bearer token.
fn api_status(s: &TestServer, token: Option<&str>) -> u16 {
    let mut curl = std::process::Command::new("curl");
    curl.args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(s.data_dir().join("tls").join("ca.crt"));
    if let Some(t) = token {
        curl.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = curl
        .arg(s.url("/api/v1/namespaces/default/configmaps"))
        .output()
        .expect("run curl");
    let code = String::from_utf8_lossy(&out.stdout);
    code.trim()
        .parse()
        .unwrap_or_else(|_| panic!("curl gave no status: {code:?}"))
}

#[test]
fn secrets_in_a_projected_tmpfs_volume_and_the_default_token() {
    let s = TestServer::start_node();
    let user = s.write("username.txt", "admin");
    let pass = s.write("password.txt", "c1oudc0w!");
    s.ok(&[
        "create",
        "secret",
        "generic",
        "user",
        &format!("--from-file={}", user.display()),
    ]);
    s.ok(&[
        "create",
        "secret",
        "generic",
        "pass",
        &format!("--from-file={}", pass.display()),
    ]);
    // The seed's base64 YAML Secret, read through env.
    apply(
        &s,
        "apiVersion: v1
kind: Secret
metadata: {name: mysecret}
type: Opaque
data: {username: YWRtaW4=, password: MTIzNDU2}
",
    );
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: test-projected-volume}
spec:
  containers:
  - name: test-secret-volume
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    env:
    - name: DB_PASSWORD
      valueFrom: {secretKeyRef: {name: mysecret, key: password}}
    volumeMounts:
    - {name: mysql-cred, mountPath: /projected-volume, readOnly: true}
  volumes:
  - name: mysql-cred
    projected:
      sources:
      - secret: {name: user, items: [{key: username.txt, path: user}]}
      - secret: {name: pass, items: [{key: password.txt, path: pass}]}
",
    );
    wait_ready(&s, "test-projected-volume");
    let pod = "test-projected-volume";
    assert_eq!(exec(&s, pod, "cat /projected-volume/user"), "admin");
    assert_eq!(exec(&s, pod, "cat /projected-volume/pass"), "c1oudc0w!");
    let listing = exec(&s, pod, "ls /projected-volume");
    assert_eq!(
        listing.split_whitespace().collect::<Vec<_>>(),
        ["pass", "user"],
        "{listing}"
    );
    // Secret data never touches the disk: the volume is a tmpfs.
    let mounts = exec(&s, pod, "grep projected-volume /proc/mounts");
    assert!(
        mounts.split_whitespace().nth(2) == Some("tmpfs"),
        "not a tmpfs: {mounts}"
    );
    let env = exec(&s, pod, "env");
    assert!(env.lines().any(|l| l == "DB_PASSWORD=123456"), "{env}");

    // The default ServiceAccount token, projected by admission into every container.
    let sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    let files = exec(&s, pod, &format!("ls {sa_dir}"));
    for f in ["token", "ca.crt", "namespace"] {
        assert!(
            files.split_whitespace().any(|x| x == f),
            "{f} missing: {files}"
        );
    }
    assert_eq!(exec(&s, pod, &format!("cat {sa_dir}/namespace")), "default");
    let token = exec(&s, pod, &format!("cat {sa_dir}/token"));
    assert_eq!(token.split('.').count(), 3, "not a JWT: {token}");
    let ca = exec(&s, pod, &format!("cat {sa_dir}/ca.crt"));
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    // The token is a credential for the API server, from the host: accepted as it is, refused
    // when tampered with. (peapod has no SelfSubjectReview, so the identity itself isn't shown.)
    assert_eq!(api_status(&s, Some(&token)), 200);
    let mut forged = token.clone();
    forged.push('x');
    assert_eq!(api_status(&s, Some(&forged)), 401);
    assert_eq!(api_status(&s, None), 401);
    let sa_mount = exec(&s, pod, &format!("grep {sa_dir} /proc/mounts"));
    assert!(
        sa_mount.split_whitespace().nth(2) == Some("tmpfs"),
        "token not on tmpfs: {sa_mount}"
    );
    // A pod-bound token dies with its pod.
    s.ok(&["delete", "pod", pod, "--grace-period=1", "--timeout=60s"]);
    eventually(10, "token rejected after pod deletion", || {
        (api_status(&s, Some(&token)) == 401).then_some(())
    });
}

#[test]
fn configmap_and_downward_api_files_follow_their_sources() {
    let s = TestServer::start_node();
    let props = s.write("ui.properties", "color.good=purple\ncolor.bad=yellow\n");
    s.ok(&[
        "create",
        "configmap",
        "ui-config",
        &format!("--from-file={}", props.display()),
    ]);
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata:
  name: test-downwardapi-volume
  labels: {zone: us-est-coast, cluster: test-cluster1}
spec:
  containers:
  - name: client-container
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    volumeMounts:
    - {name: podinfo, mountPath: /etc/podinfo}
    - {name: ui, mountPath: /etc/ui}
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - path: labels
        fieldRef: {fieldPath: metadata.labels}
  - name: ui
    configMap: {name: ui-config}
",
    );
    let pod = "test-downwardapi-volume";
    wait_ready(&s, pod);
    let labels = exec(&s, pod, "cat /etc/podinfo/labels");
    assert!(
        labels.contains("zone=\"us-est-coast\"") && labels.contains("cluster=\"test-cluster1\""),
        "{labels}"
    );
    assert_eq!(
        exec(&s, pod, "cat /etc/ui/ui.properties"),
        "color.good=purple\ncolor.bad=yellow\n"
    );

    // New ConfigMap data reaches the mounted file without restarting the pod.
    apply(
        &s,
        "apiVersion: v1
kind: ConfigMap
metadata: {name: ui-config}
data:
  ui.properties: |
    color.good=green
",
    );
    exec_until(&s, 15, pod, "cat /etc/ui/ui.properties", |o| {
        o == "color.good=green\n"
    });

    // So does a new label, through the Downward API file.
    s.ok(&["label", "pod", pod, "newlabel=v"]);
    let labels = exec_until(&s, 15, pod, "cat /etc/podinfo/labels", |o| {
        o.contains("newlabel=\"v\"")
    });
    assert!(labels.contains("zone=\"us-est-coast\""), "{labels}");
    let restarts = s.ok(&[
        "get",
        "pod",
        pod,
        "-o",
        "jsonpath={.status.containerStatuses[0].restartCount}",
    ]);
    assert_eq!(restarts, "0");
}

#[test]
fn env_from_configmaps_secrets_fields_and_expansion() {
    let s = TestServer::start_node();
    s.ok(&[
        "create",
        "configmap",
        "special-config",
        "--from-literal=special.how=very",
        "--from-literal=LOG_LEVEL=debug",
    ]);
    s.ok(&[
        "create",
        "secret",
        "generic",
        "db",
        "--from-literal=password=s3cr3t",
    ]);
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: env-demo}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c]
    args: ['echo \"greeting=$(SPECIAL_HOW)-$(MY_POD_NAME)\"; echo ''literal=$$(SPECIAL_HOW)''; sleep 3600']
    env:
    - name: SPECIAL_HOW
      valueFrom: {configMapKeyRef: {name: special-config, key: special.how}}
    - name: DB_PASSWORD
      valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: MY_POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MY_POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: COMBINED
      value: '$(SPECIAL_HOW)/$(DB_PASSWORD)'
    envFrom:
    - prefix: CFG_
      configMapRef: {name: special-config}
",
    );
    wait_ready(&s, "env-demo");
    let ip = s.ok(&["get", "pod", "env-demo", "-o", "jsonpath={.status.podIP}"]);
    assert!(!ip.is_empty());
    let env = exec(&s, "env-demo", "env");
    for want in [
        "SPECIAL_HOW=very".to_string(),
        "DB_PASSWORD=s3cr3t".into(),
        "MY_POD_NAME=env-demo".into(),
        format!("MY_POD_IP={ip}"),
        "COMBINED=very/s3cr3t".into(),
        "CFG_LOG_LEVEL=debug".into(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing:\n{env}");
    }
    // `$$` escapes expansion; `$(VAR)` in args uses the container's env.
    let logs = eventually(20, "logs", || {
        let out = s.ok(&["logs", "env-demo"]);
        out.contains("literal=").then_some(out)
    });
    assert!(
        logs.lines().any(|l| l == "greeting=very-env-demo")
            && logs.lines().any(|l| l == "literal=$(SPECIAL_HOW)"),
        "{logs}"
    );
}

#[test]
fn missing_configmap_keeps_the_container_waiting_until_it_exists() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: needs-config}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo mode=$MODE; sleep 3600']
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: late-config, key: mode}}
",
    );
    let shown = eventually(30, "CreateContainerConfigError", || {
        let out = s.ok(&["get", "pod", "needs-config"]);
        out.contains("CreateContainerConfigError").then_some(out)
    });
    assert!(!shown.contains("Running"), "{shown}");
    let reason = s.ok(&[
        "get",
        "pod",
        "needs-config",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.waiting.message}",
    ]);
    assert!(reason.contains("late-config"), "unclear message: {reason}");

    s.ok(&[
        "create",
        "configmap",
        "late-config",
        "--from-literal=mode=fast",
    ]);
    wait_ready(&s, "needs-config");
    let logs = eventually(20, "logs", || {
        let out = s.ok(&["logs", "needs-config"]);
        out.contains("mode=").then_some(out)
    });
    assert_eq!(logs.trim(), "mode=fast");
}

/// The volumes are written while the sandbox is made; when they cannot be, the sandbox is
/// not kept (no pod IP, nothing running) until they can.
#[test]
fn missing_secret_volume_holds_the_pod_until_the_secret_exists() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: needs-secret}
spec:
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'cat /etc/creds/user; echo; sleep 3600']
    volumeMounts:
    - {name: creds, mountPath: /etc/creds}
  volumes:
  - name: creds
    secret: {secretName: late-secret}
",
    );
    let events = eventually(30, "FailedMount event", || {
        let out = s.ok(&[
            "get",
            "events",
            "--field-selector=involvedObject.name=needs-secret,reason=FailedMount",
            "-o",
            "jsonpath={.items[*].message}",
        ]);
        out.contains("late-secret").then_some(out)
    });
    assert!(events.contains("not found"), "{events}");
    let shown = s.ok(&["get", "pod", "needs-secret"]);
    assert!(shown.contains("ContainerCreating"), "{shown}");
    let ip = s.ok(&[
        "get",
        "pod",
        "needs-secret",
        "-o",
        "jsonpath={.status.podIP}",
    ]);
    assert!(
        ip.is_empty(),
        "no sandbox is kept while a volume fails: {ip}"
    );

    s.ok(&[
        "create",
        "secret",
        "generic",
        "late-secret",
        "--from-literal=user=admin",
    ]);
    wait_ready(&s, "needs-secret");
    let logs = eventually(20, "logs", || {
        let out = s.ok(&["logs", "needs-secret"]);
        out.contains("admin").then_some(out)
    });
    assert_eq!(logs.trim(), "admin");
}

#[test]
fn automount_off_leaves_out_the_token() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: v1
kind: ServiceAccount
metadata: {name: quiet}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Pod
metadata: {name: pod-opt-out}
spec:
  automountServiceAccountToken: false
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: sa-opt-out}
spec:
  serviceAccountName: quiet
  containers:
  - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
",
    );
    for pod in ["pod-opt-out", "sa-opt-out"] {
        wait_ready(&s, pod);
        let volumes = s.ok(&["get", "pod", pod, "-o", "jsonpath={.spec.volumes[*].name}"]);
        assert!(!volumes.contains("kube-api-access"), "{pod}: {volumes}");
        let out = s.kubectl(&[
            "exec",
            pod,
            "--",
            "ls",
            "/var/run/secrets/kubernetes.io/serviceaccount",
        ]);
        assert!(
            !out.status.success(),
            "{pod} has a token dir: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// A reader loop inside the pod never sees keys of two different versions in one data dir.
#[test]
fn configmap_updates_are_atomic_for_readers() {
    let s = TestServer::start_node();
    let version = |n: u32| {
        format!(
            "apiVersion: v1
kind: ConfigMap
metadata: {{name: pair}}
data: {{a: v{n}, b: v{n}, c: v{n}}}
"
        )
    };
    apply(&s, &version(0));
    // Each pass reads every key through the `..data` link it resolved once; a pass that
    // straddles a swap fails to read (the old dir is gone) and is skipped, never mixed.
    apply(
        &s,
        "apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  volumes: [{name: cfg, configMap: {name: pair}}]
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    volumeMounts: [{name: cfg, mountPath: /cfg}]
    command:
    - sh
    - -c
    - |
      exec 2>/dev/null
      while true; do
        usleep 2000
        d=$(readlink /cfg/..data) || continue
        a=$(cat /cfg/$d/a) && b=$(cat /cfg/$d/b) && c=$(cat /cfg/$d/c) || continue
        if [ \"$a\" != \"$b\" ] || [ \"$b\" != \"$c\" ]; then echo \"TORN $a $b $c\"; fi
        echo \"$a\" > /tmp/seen
      done
",
    );
    wait_ready(&s, "reader");
    for n in 1..=6 {
        apply(&s, &version(n));
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    exec_until(&s, 15, "reader", "cat /tmp/seen", |o| o.trim() == "v6");
    let logs = s.ok(&["logs", "reader"]);
    assert!(
        !logs.contains("TORN"),
        "a reader saw a partial update:\n{logs}"
    );
}
