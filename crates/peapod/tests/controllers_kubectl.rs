//! The controllers (Deployment, ReplicaSet, ReplicationController, Job, CronJob, DaemonSet,
//! StatefulSet, garbage collector) driven end to end by the stock kubectl against a server with its embedded node
//! agent running real containers. busybox with `IfNotPresent`: there is no registry.

mod common;

use common::{apply, eventually, TestServer};

/// `kubectl <args>` that must succeed, with the server log in the failure message: the commands
/// here block on controllers (`rollout status`, `wait`), so a failure is usually explained there.
fn ok_or_log(s: &TestServer, args: &[&str]) -> String {
    let out = s.kubectl(args);
    if !out.status.success() {
        let pods = s.kubectl(&["get", "pods,rs,jobs", "-o", "wide"]);
        panic!(
            "kubectl {args:?} failed: {}\n{}\n--- objects ---\n{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&pods.stdout),
            s.log_tail(80)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` until it returns Ok; on timeout panics with its last Err and the server log.
fn wait_for<T>(
    s: &TestServer,
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match f() {
            Ok(v) => return v,
            Err(last) if std::time::Instant::now() > deadline => panic!(
                "timed out waiting for {what}; last seen:\n{last}\n--- server log ---\n{}",
                s.log_tail(60)
            ),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
}

/// A pod as listed: name, phase, whether it is being deleted, and its pod-template-hash label.
#[derive(Debug, Clone)]
struct PodRow {
    name: String,
    phase: String,
    deleting: bool,
    hash: String,
}

fn pods(s: &TestServer, selector: &str) -> Vec<PodRow> {
    let out = s.ok(&[
        "get",
        "pods",
        "-l",
        selector,
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.name}|{.status.phase}|{.metadata.deletionTimestamp}|{.metadata.labels.pod-template-hash}{"\n"}{end}"#,
    ]);
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or_default().to_string();
            PodRow {
                name: field(0),
                phase: field(1),
                deleting: !field(2).is_empty(),
                hash: field(3),
            }
        })
        .collect()
}

/// The live (not terminating) Running pods of `selector`.
fn running(s: &TestServer, selector: &str) -> Vec<PodRow> {
    pods(s, selector)
        .into_iter()
        .filter(|p| p.phase == "Running" && !p.deleting)
        .collect()
}

/// Waits until exactly `n` pods of `selector` exist and all are live and Running.
fn wait_running(s: &TestServer, selector: &str, n: usize) -> Vec<PodRow> {
    eventually(90, &format!("{n} Running pods for {selector}"), || {
        let all = pods(s, selector);
        let live = running(s, selector);
        (all.len() == n && live.len() == n).then_some(live)
    })
}

/// Pods of `selector` that are Ready and not being deleted.
fn ready_live_pods(s: &TestServer, selector: &str) -> usize {
    let out = s.ok(&[
        "get",
        "pods",
        "-l",
        selector,
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
    ]);
    out.lines().filter(|l| *l == "|True").count()
}

fn revisions(s: &TestServer, deployment: &str) -> Vec<u32> {
    ok_or_log(s, &["rollout", "history", deployment])
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

fn rollout_status(s: &TestServer, what: &str) {
    ok_or_log(s, &["rollout", "status", what, "--timeout=90s"]);
}

fn deployment(name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  strategy: {{rollingUpdate: {{maxUnavailable: 0, maxSurge: 1}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {{name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}}
"
    )
}

#[test]
fn deployment_rollout_history_undo_restart_and_scale() {
    let s = TestServer::start_node();
    apply(&s, &deployment("web", 2));
    rollout_status(&s, "deployment/web");
    let first = wait_running(&s, "app=web", 2);
    let first_hash = first[0].hash.clone();
    assert!(
        !first_hash.is_empty(),
        "pods lack pod-template-hash: {first:?}"
    );
    assert!(first.iter().all(|p| p.hash == first_hash), "{first:?}");

    // A template change (image updates need a registry) rolls out a second ReplicaSet.
    ok_or_log(&s, &["set", "env", "deployment/web", "FOO=bar"]);
    // maxUnavailable 0: while the rollout runs, ready pods never drop below replicas.
    wait_for(&s, 90, "rollout to the new template", || {
        let ready = ready_live_pods(&s, "app=web");
        assert!(ready >= 2, "only {ready} ready pods during the rollout");
        let new_running = running(&s, "app=web")
            .iter()
            .filter(|p| p.hash != first_hash)
            .count();
        let total = pods(&s, "app=web").len();
        if new_running == 2 && total == 2 {
            Ok(())
        } else {
            Err(format!("{:?}", pods(&s, "app=web")))
        }
    });
    rollout_status(&s, "deployment/web");
    let second = wait_running(&s, "app=web", 2);
    assert!(
        second.iter().all(|p| p.hash != first_hash),
        "pods still from the first template: {second:?}"
    );
    let env = s.ok(&["exec", &second[0].name, "--", "sh", "-c", "echo $FOO"]);
    assert_eq!(env.trim(), "bar");
    assert_eq!(revisions(&s, "deployment/web"), vec![1, 2]);
    let rs_count = s.ok(&["get", "rs", "-l", "app=web", "-o", "name"]);
    assert_eq!(rs_count.lines().count(), 2, "{rs_count}");

    // Undo goes back to the first template: its ReplicaSet (same hash) is scaled back up.
    ok_or_log(&s, &["rollout", "undo", "deployment/web"]);
    rollout_status(&s, "deployment/web");
    let undone = wait_running(&s, "app=web", 2);
    assert!(
        undone.iter().all(|p| p.hash == first_hash),
        "undo did not return to the first template: {undone:?}"
    );
    let env = s.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].env}",
    ]);
    assert!(env.is_empty(), "env still set after undo: {env}");
    assert_eq!(revisions(&s, "deployment/web"), vec![2, 3]);

    // Restart stamps the template, which makes a new ReplicaSet and replaces every pod.
    ok_or_log(&s, &["rollout", "restart", "deployment/web"]);
    let stamped = s.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        r#"jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}"#,
    ]);
    assert!(!stamped.is_empty(), "restart did not annotate the template");
    rollout_status(&s, "deployment/web");
    let restarted = wait_running(&s, "app=web", 2);
    assert!(
        restarted
            .iter()
            .all(|p| p.hash != first_hash && undone.iter().all(|u| u.name != p.name)),
        "restart kept old pods: {restarted:?} vs {undone:?}"
    );
    assert_eq!(revisions(&s, "deployment/web"), vec![2, 3, 4]);

    // The scale subresource.
    ok_or_log(&s, &["scale", "deployment/web", "--replicas=3"]);
    rollout_status(&s, "deployment/web");
    wait_running(&s, "app=web", 3);
    let ready = s.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.status.readyReplicas}/{.status.replicas}",
    ]);
    assert_eq!(ready, "3/3");

    // Paused: template changes wait for resume.
    ok_or_log(&s, &["rollout", "pause", "deployment/web"]);
    ok_or_log(&s, &["set", "env", "deployment/web", "PAUSED=yes"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(revisions(&s, "deployment/web"), vec![2, 3, 4]);
    ok_or_log(&s, &["rollout", "resume", "deployment/web"]);
    rollout_status(&s, "deployment/web");
    assert_eq!(revisions(&s, "deployment/web"), vec![2, 3, 4, 5]);
    wait_running(&s, "app=web", 3);
}

/// A ConfigMap and a ReplicationController in one multi-document manifest.
const RC_MANIFEST: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: rc-settings}
data: {mode: fast}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rcweb}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: rcweb}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
";

/// `kubectl get rc <name>` as its cells, header excluded.
fn rc_row(s: &TestServer, name: &str) -> Vec<String> {
    let out = s.ok(&["get", "rc", name, "--no-headers"]);
    out.split_whitespace().map(String::from).collect()
}

#[test]
fn replication_controller_keeps_pods_and_scales() {
    let s = TestServer::start_node();
    apply(&s, RC_MANIFEST);
    assert_eq!(
        s.ok(&["get", "cm", "rc-settings", "-o", "jsonpath={.data.mode}"]),
        "fast"
    );
    // The selector and the object's labels are defaulted from the template.
    assert_eq!(
        s.ok(&[
            "get",
            "rc",
            "rcweb",
            "-o",
            "jsonpath={.spec.selector.app}|{.metadata.labels.app}"
        ]),
        "rcweb|rcweb"
    );
    let first = wait_running(&s, "app=rcweb", 2);
    let uid = s.ok(&["get", "rc", "rcweb", "-o", "jsonpath={.metadata.uid}"]);
    let owners = s.ok(&[
        "get",
        "pods",
        "-l",
        "app=rcweb",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.generateName}|{.metadata.ownerReferences[0].apiVersion}|{.metadata.ownerReferences[0].kind}|{.metadata.ownerReferences[0].name}|{.metadata.ownerReferences[0].uid}|{.metadata.ownerReferences[0].controller}|{.metadata.ownerReferences[0].blockOwnerDeletion}{"\n"}{end}"#,
    ]);
    let want = format!("rcweb-|v1|ReplicationController|rcweb|{uid}|true|true");
    assert!(
        owners.lines().all(|l| l == want) && owners.lines().count() == 2,
        "{owners}"
    );
    wait_for(&s, 60, "DESIRED/CURRENT/READY 2", || {
        let row = rc_row(&s, "rcweb");
        (row.get(..4) == Some(&["rcweb", "2", "2", "2"].map(String::from)[..]))
            .then_some(())
            .ok_or(row.join(" "))
    });
    let wide = s.ok(&["get", "rc", "rcweb", "-o", "wide"]);
    assert!(
        wide.contains("CONTAINERS") && wide.contains("busybox") && wide.contains("app=rcweb"),
        "{wide}"
    );
    let all = s.ok(&["get", "all"]);
    assert!(all.contains("replicationcontroller/rcweb"), "{all}");

    // A deleted pod is replaced.
    ok_or_log(&s, &["delete", "pod", &first[0].name, "--wait=false"]);
    wait_for(&s, 90, "replacement pod", || {
        let live = running(&s, "app=rcweb");
        if live.len() == 2 && live.iter().all(|p| p.name != first[0].name) {
            Ok(())
        } else {
            Err(format!("{:?}", pods(&s, "app=rcweb")))
        }
    });

    // Scale through the scale subresource.
    ok_or_log(&s, &["scale", "rc", "rcweb", "--replicas=3"]);
    wait_running(&s, "app=rcweb", 3);
    let described = ok_or_log(&s, &["describe", "rc", "rcweb"]);
    assert!(
        described.contains("3 current / 3 desired")
            && described.contains("Selector:     app=rcweb"),
        "{described}"
    );

    // A selector that does not select the template's pods is refused with 422.
    let invalid = "apiVersion: v1
kind: ReplicationController
metadata: {name: bad}
spec:
  selector: {app: other}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers: [{name: main, image: busybox}]
";
    let out = s.apply_stdin(&["create", "-f", "-", "-v=6"], invalid);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("422 Unprocessable Entity"), "{err}");
    assert!(
        err.contains(r#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`"#),
        "{err}"
    );

    // Deleting it collects its pods in the background.
    let deleted = ok_or_log(&s, &["delete", "rc", "rcweb"]);
    assert!(
        deleted.contains(r#"replicationcontroller "rcweb" deleted"#),
        "{deleted}"
    );
    eventually(60, "pods of rcweb collected", || {
        pods(&s, "app=rcweb").is_empty().then_some(())
    });
}

#[test]
fn deleting_a_deployment_cascades_or_orphans() {
    let s = TestServer::start_node();
    apply(&s, &deployment("gone", 2));
    apply(&s, &deployment("kept", 2));
    apply(&s, &deployment("fg", 1));
    rollout_status(&s, "deployment/gone");
    rollout_status(&s, "deployment/fg");
    rollout_status(&s, "deployment/kept");
    wait_running(&s, "app=gone", 2);
    let kept_pods = wait_running(&s, "app=kept", 2);

    // Background propagation: the ReplicaSet and then its pods are collected.
    ok_or_log(&s, &["delete", "deployment", "gone"]);
    eventually(60, "ReplicaSets of `gone` collected", || {
        s.ok(&["get", "rs", "-l", "app=gone", "-o", "name"])
            .trim()
            .is_empty()
            .then_some(())
    });
    eventually(60, "pods of `gone` collected", || {
        pods(&s, "app=gone").is_empty().then_some(())
    });

    // Foreground: kubectl waits for the Deployment, which goes only after its dependents.
    ok_or_log(&s, &["delete", "deployment", "fg", "--cascade=foreground"]);
    assert_eq!(
        s.ok(&["get", "rs", "-l", "app=fg", "-o", "name"]).trim(),
        ""
    );
    let left = pods(&s, "app=fg");
    assert!(
        left.is_empty(),
        "pods outlived a foreground delete: {left:?}"
    );

    // Orphan: the ReplicaSet survives without its owner reference, its pods keep running.
    ok_or_log(&s, &["delete", "deployment", "kept", "--cascade=orphan"]);
    s.fails(&["get", "deployment", "kept"]);
    let rs = wait_for(&s, 30, "orphaned ReplicaSet released", || {
        let out = s.ok(&[
            "get",
            "rs",
            "-l",
            "app=kept",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name}|{.metadata.ownerReferences}{"\n"}{end}"#,
        ]);
        let rows: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
        match rows.as_slice() {
            [row] => match row.split_once('|') {
                Some((name, "")) => Ok(name.to_string()),
                _ => Err(out.clone()),
            },
            _ => Err(out.clone()),
        }
    });
    // Orphaning the ReplicaSet too releases the pods themselves.
    ok_or_log(&s, &["delete", "rs", &rs, "--cascade=orphan"]);
    eventually(30, "pods released by their ReplicaSet", || {
        let refs = s.ok(&[
            "get",
            "pods",
            "-l",
            "app=kept",
            "-o",
            "jsonpath={.items[*].metadata.ownerReferences}",
        ]);
        refs.trim().is_empty().then_some(())
    });
    // Nothing comes back to delete them: same pods, still Running, a while later.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let mut before: Vec<String> = kept_pods.into_iter().map(|p| p.name).collect();
    let mut after: Vec<String> = running(&s, "app=kept")
        .into_iter()
        .map(|p| p.name)
        .collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);
    assert_eq!(pods(&s, "app=kept").len(), 2);
}

#[test]
fn job_completes_and_a_cronjob_job_can_be_started_by_hand() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'exit 0']}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo by hand']}
",
    );
    ok_or_log(
        &s,
        &[
            "wait",
            "--for=condition=complete",
            "job/once",
            "--timeout=90s",
        ],
    );
    let status = s.ok(&[
        "get",
        "job",
        "once",
        "-o",
        "jsonpath={.status.succeeded}|{.status.failed}|{.status.completionTime}",
    ]);
    let f: Vec<&str> = status.split('|').collect();
    assert_eq!(f[0], "1", "{status}");
    assert!(f[1].is_empty() || f[1] == "0", "{status}");
    assert!(!f[2].is_empty(), "no completionTime: {status}");
    let phase = s.ok(&[
        "get",
        "pods",
        "-l",
        "job-name=once",
        "-o",
        "jsonpath={.items[*].status.phase}",
    ]);
    assert_eq!(phase, "Succeeded");

    ok_or_log(&s, &["create", "job", "manual", "--from=cronjob/nightly"]);
    let owner = s.ok(&[
        "get",
        "job",
        "manual",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
    ]);
    assert_eq!(owner, "CronJob/nightly");
    ok_or_log(
        &s,
        &[
            "wait",
            "--for=condition=complete",
            "job/manual",
            "--timeout=90s",
        ],
    );
    let pod = s.ok(&[
        "get",
        "pods",
        "-l",
        "job-name=manual",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    assert_eq!(ok_or_log(&s, &["logs", &pod]).trim(), "by hand");
}

#[test]
fn daemonset_runs_on_the_node_and_statefulset_starts_in_order() {
    let s = TestServer::start_node();
    let node = s.ok(&["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    apply(
        &s,
        "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
",
    );

    // OrderedReady: web-1 appears only once web-0 is Running.
    eventually(90, "web-1 created", || {
        let all = pods(&s, "app=web");
        let web1 = all.iter().any(|p| p.name == "web-1");
        if web1 {
            let web0 = all.iter().find(|p| p.name == "web-0");
            assert!(
                matches!(web0, Some(p) if p.phase == "Running"),
                "web-1 created before web-0 was Running: {all:?}"
            );
        }
        web1.then_some(())
    });
    rollout_status(&s, "statefulset/web");
    let names: Vec<String> = wait_running(&s, "app=web", 2)
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"web-0".to_string()) && names.contains(&"web-1".to_string()));
    assert_eq!(s.ok(&["exec", "web-1", "--", "hostname"]).trim(), "web-1");

    rollout_status(&s, "daemonset/agent");
    let ds = wait_running(&s, "app=agent", 1);
    let on = s.ok(&["get", "pod", &ds[0].name, "-o", "jsonpath={.spec.nodeName}"]);
    assert_eq!(on, node);
    let counters = s.ok(&[
        "get",
        "daemonset",
        "agent",
        "-o",
        "jsonpath={.status.desiredNumberScheduled}/{.status.currentNumberScheduled}/{.status.numberReady}",
    ]);
    assert_eq!(counters, "1/1/1");

    // Ordered scale-down removes the highest ordinal.
    ok_or_log(&s, &["scale", "statefulset/web", "--replicas=1"]);
    eventually(60, "web-1 removed", || {
        let all = pods(&s, "app=web");
        (all.len() == 1 && all[0].name == "web-0").then_some(())
    });
}

#[test]
fn indexed_parallel_job_and_backoff_limit_failure() {
    let s = TestServer::start_node();
    apply(
        &s,
        "apiVersion: batch/v1
kind: Job
metadata: {name: indexed}
spec:
  completions: 3
  parallelism: 2
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'echo index=$JOB_COMPLETION_INDEX']}
---
apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, imagePullPolicy: IfNotPresent, command: [sh, -c, 'exit 3']}
",
    );
    ok_or_log(
        &s,
        &[
            "wait",
            "--for=condition=complete",
            "job/indexed",
            "--timeout=90s",
        ],
    );
    let done = s.ok(&[
        "get",
        "job",
        "indexed",
        "-o",
        "jsonpath={.status.succeeded}|{.status.completedIndexes}",
    ]);
    assert_eq!(done, "3|0-2");
    let names = s.ok(&[
        "get",
        "pods",
        "-l",
        "job-name=indexed",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    let mut seen: Vec<String> = names
        .split_whitespace()
        .map(|p| ok_or_log(&s, &["logs", p]).trim().to_string())
        .collect();
    seen.sort();
    assert_eq!(seen, vec!["index=0", "index=1", "index=2"]);

    // Two failures (the first plus one retry after a backoff), then Failed.
    ok_or_log(
        &s,
        &[
            "wait",
            "--for=condition=failed",
            "job/doomed",
            "--timeout=90s",
        ],
    );
    let failed = s.ok(&[
        "get",
        "job",
        "doomed",
        "-o",
        r#"jsonpath={.status.failed}|{.status.conditions[?(@.type=="Failed")].reason}"#,
    ]);
    assert_eq!(failed, "2|BackoffLimitExceeded");
}
