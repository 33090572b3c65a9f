//! End-to-end: a real API server, the agent, real containers (run as root).

mod common;

use common::*;
use serde_json::json;

fn busybox(name: &str, cmd: &str) -> serde_json::Value {
    json!({"name": name, "image": "busybox", "imagePullPolicy": "IfNotPresent",
           "command": ["sh", "-c", cmd]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_containers_share_the_pod_ip_and_report_like_kubernetes() {
    let env = Env::new().await;
    env.create(json!({
        "metadata": {"name": "web"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [
            busybox("a", "sleep 3600"), busybox("b", "sleep 3600")]}
    }))
    .await;
    let p = env
        .wait_for("web", 60, "Ready", |p| {
            condition(p, "Ready").as_deref() == Some("True")
        })
        .await;
    assert_eq!(phase(&p), "Running");
    let st = p.status.clone().unwrap();
    let ip = st.pod_ip.clone().expect("podIP");
    assert!(
        env.pod_cidr.contains(ip.parse().unwrap()),
        "{ip} outside the pod CIDR"
    );
    assert!(st.host_ip.is_some() && st.start_time.is_some());
    assert_eq!(st.qos_class.as_deref(), Some("BestEffort"));
    for kind in [
        "PodReadyToStartContainers",
        "Initialized",
        "ContainersReady",
        "PodScheduled",
    ] {
        assert_eq!(condition(&p, kind).as_deref(), Some("True"), "{kind}");
    }
    let rt = env.runtime();
    for c in ["a", "b"] {
        let cs = st
            .container_statuses
            .as_ref()
            .unwrap()
            .iter()
            .find(|s| s.name == c)
            .unwrap();
        assert!(cs.ready && cs.started == Some(true));
        assert_eq!(cs.image, "docker.io/library/busybox:latest");
        assert!(cs.image_id.starts_with("sha256:"), "{}", cs.image_id);
        let id = container_id(&p, c).unwrap();
        let (code, out) = exec(&rt, &id, &["hostname", "-i"]);
        assert_eq!(code, 0);
        assert_eq!(out.trim(), ip, "container {c} sees another IP");
    }
    let (_, hn) = exec(&rt, &container_id(&p, "a").unwrap(), &["hostname"]);
    assert_eq!(hn.trim(), "web");
    let has = |events: &[k8s_openapi::api::core::v1::Event], r: &str| {
        events.iter().any(|e| e.reason.as_deref() == Some(r))
    };
    let events = env
        .wait_events("web", 10, "Pulled/Created/Started", |ev| {
            ["Pulled", "Created", "Started"].iter().all(|r| has(ev, r))
        })
        .await;
    let reasons: Vec<String> = events.iter().filter_map(|e| e.reason.clone()).collect();
    for r in ["Pulled", "Created", "Started"] {
        assert!(
            reasons.iter().any(|x| x == r),
            "missing {r} event in {reasons:?}"
        );
    }
    let started = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("Started"))
        .unwrap();
    assert_eq!(
        started.source.as_ref().unwrap().component.as_deref(),
        Some("kubelet")
    );
    assert!(started
        .message
        .as_deref()
        .unwrap()
        .starts_with("Started container "));

    env.delete_and_wait("web", 30).await;
    assert!(rt.list_sandboxes().is_empty(), "sandbox left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn init_container_prepares_the_shared_empty_dir() {
    let env = Env::new().await;
    let mut app = busybox("app", "sleep 3600");
    app["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    let mut init = busybox("init", "touch /data/test.txt");
    init["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    env.create(json!({
        "metadata": {"name": "init-demo"},
        "spec": {"terminationGracePeriodSeconds": 1, "initContainers": [init],
                 "containers": [app], "volumes": [{"name": "data", "emptyDir": {}}]}
    }))
    .await;
    let p = env
        .wait_for("init-demo", 60, "Running", |p| phase(p) == "Running")
        .await;
    let init_st = &p
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .as_ref()
        .unwrap()[0];
    let term = init_st
        .state
        .as_ref()
        .unwrap()
        .terminated
        .as_ref()
        .expect("init terminated");
    assert_eq!(term.exit_code, 0);
    assert_eq!(term.reason.as_deref(), Some("Completed"));
    let (code, out) = exec(
        &env.runtime(),
        &container_id(&p, "app").unwrap(),
        &["ls", "/data"],
    );
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "test.txt");
    env.delete_and_wait("init-demo", 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_policies_and_phases() {
    let env = Env::new().await;
    for (name, policy, cmd) in [
        ("never-ok", "Never", "exit 0"),
        ("never-fail", "Never", "exit 3"),
        ("always-crash", "Always", "exit 1"),
        ("onfailure", "OnFailure", "exit 2"),
    ] {
        env.create(json!({
            "metadata": {"name": name},
            "spec": {"restartPolicy": policy, "terminationGracePeriodSeconds": 1,
                     "containers": [busybox("c", cmd)]}
        }))
        .await;
    }
    let p = env
        .wait_for("never-ok", 60, "Succeeded", |p| phase(p) == "Succeeded")
        .await;
    assert_eq!(condition(&p, "Ready").as_deref(), Some("False"));
    let p = env
        .wait_for("never-fail", 60, "Failed", |p| phase(p) == "Failed")
        .await;
    let t = p.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((t.exit_code, t.reason.as_deref()), (3, Some("Error")));
    let p = env
        .wait_for("always-crash", 60, "CrashLoopBackOff", |p| {
            restarts(p, "c") >= 1
                && p.status
                    .as_ref()
                    .unwrap()
                    .container_statuses
                    .as_ref()
                    .unwrap()[0]
                    .state
                    .as_ref()
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.as_deref())
                    == Some("CrashLoopBackOff")
        })
        .await;
    assert_eq!(phase(&p), "Running");
    let cs = &p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        cs.last_state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        1
    );
    env.wait_for("onfailure", 60, "restart", |p| restarts(p, "c") >= 1)
        .await;
    let reasons: Vec<String> = env
        .wait_events("always-crash", 10, "BackOff", |ev| {
            ev.iter().any(|e| e.reason.as_deref() == Some("BackOff"))
        })
        .await
        .iter()
        .filter_map(|e| e.reason.clone())
        .collect();
    assert!(reasons.iter().any(|r| r == "BackOff"), "{reasons:?}");
    for name in ["never-ok", "never-fail", "always-crash", "onfailure"] {
        env.delete_and_wait(name, 30).await;
    }
    assert!(env.runtime().list_sandboxes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn liveness_failure_restarts_and_readiness_gates_ready() {
    let env = Env::new().await;
    let mut live = busybox("live", "sleep 3600");
    live["livenessProbe"] = json!({"exec": {"command": ["cat", "/tmp/healthy"]},
        "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 1});
    let mut ready = busybox("ready", "sleep 3600");
    ready["readinessProbe"] =
        json!({"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1});
    env.create(json!({
        "metadata": {"name": "probes"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [live, ready]}
    }))
    .await;
    env.wait_for("probes", 60, "liveness restart", |p| {
        restarts(p, "live") >= 1
    })
    .await;
    let events = env
        .wait_events("probes", 10, "Unhealthy and Killing", |ev| {
            let killing = ev.iter().any(|e| e.reason.as_deref() == Some("Killing"));
            killing && ev.iter().any(|e| e.reason.as_deref() == Some("Unhealthy"))
        })
        .await;
    assert!(events
        .iter()
        .any(|e| e.reason.as_deref() == Some("Unhealthy")
            && e.message
                .as_deref()
                .unwrap_or("")
                .starts_with("Liveness probe failed:")));
    assert!(events
        .iter()
        .any(|e| e.reason.as_deref() == Some("Killing")));
    let p = env.pods().get("probes").await.unwrap();
    assert_eq!(condition(&p, "Ready").as_deref(), Some("False"));
    let id = container_id(&p, "ready").unwrap();
    let (code, _) = exec(&env.runtime(), &id, &["touch", "/tmp/ready"]);
    assert_eq!(code, 0);
    env.wait_for("probes", 30, "ready container", |p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|l| l.iter().any(|c| c.name == "ready" && c.ready))
    })
    .await;
    env.delete_and_wait("probes", 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hooks_graceful_delete_and_agent_restart() {
    let mut env = Env::new().await;
    let mut c = busybox("c", "trap 'exit 0' TERM; while true; do sleep 1; done");
    c["volumeMounts"] = json!([{"name": "host", "mountPath": "/host"}]);
    c["lifecycle"] = json!({
        "postStart": {"exec": {"command": ["sh", "-c", "echo started > /host/poststart"]}},
        "preStop": {"exec": {"command": ["sh", "-c", "echo stopping > /host/prestop"]}}
    });
    let host_dir = env.tmp.path().join("hostdir");
    std::fs::create_dir_all(&host_dir).unwrap();
    env.create(json!({
        "metadata": {"name": "hooks"},
        "spec": {"terminationGracePeriodSeconds": 5, "containers": [c],
                 "volumes": [{"name": "host", "hostPath": {"path": host_dir}}]}
    }))
    .await;
    let p = env
        .wait_for("hooks", 60, "Running", |p| phase(p) == "Running")
        .await;
    assert_eq!(
        std::fs::read_to_string(host_dir.join("poststart"))
            .unwrap()
            .trim(),
        "started"
    );
    let id = container_id(&p, "c").unwrap();
    let started = p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .state
        .clone()
        .unwrap()
        .running
        .unwrap()
        .started_at;

    // Agent restart: the container keeps running, same id and start time.
    env.stop_agent().await;
    env.start_agent();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let p = env
        .wait_for("hooks", 30, "Running", |p| phase(p) == "Running")
        .await;
    assert_eq!(container_id(&p, "c").unwrap(), id);
    assert_eq!(restarts(&p, "c"), 0);
    let again = p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .state
        .clone()
        .unwrap()
        .running
        .unwrap()
        .started_at;
    assert_eq!(again, started);
    assert_eq!(
        env.runtime().container_status(&id).unwrap().state,
        peapod_runtime::ContainerState::Running
    );

    env.delete_and_wait("hooks", 30).await;
    assert_eq!(
        std::fs::read_to_string(host_dir.join("prestop"))
            .unwrap()
            .trim(),
        "stopping"
    );
    assert!(env.runtime().list_sandboxes().is_empty());
}

/// A new pod's app containers are created side by side but started in spec order, each only
/// after the previous one's postStart hook has returned (kubelet semantics).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn containers_start_in_order_after_the_previous_post_start() {
    let env = Env::new().await;
    let host_dir = env.tmp.path().join("order");
    std::fs::create_dir_all(&host_dir).unwrap();
    let mount = json!([{"name": "host", "mountPath": "/host"}]);
    let mut first = busybox("first", "sleep 3600");
    first["volumeMounts"] = mount.clone();
    first["lifecycle"] = json!({"postStart": {"exec": {"command":
        ["sh", "-c", "sleep 1; echo hooked > /host/first-hook"]}}});
    let mut second = busybox(
        "second",
        "if [ -f /host/first-hook ]; then echo after > /host/second; else echo before > /host/second; fi; sleep 3600",
    );
    second["volumeMounts"] = mount;
    env.create(json!({
        "metadata": {"name": "ordered"},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [first, second],
                 "volumes": [{"name": "host", "hostPath": {"path": host_dir}}]}
    }))
    .await;
    env.wait_for("ordered", 60, "Running", |p| phase(p) == "Running")
        .await;
    // The second container writes its verdict right after it starts.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = std::fs::read_to_string(host_dir.join("second")).unwrap_or_default();
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen.trim(),
        "after",
        "second started before first's postStart returned"
    );
    env.delete_and_wait("ordered", 30).await;
}

/// The network of a new sandbox is set up while its containers are created; when that
/// fails (here a CNI plugin that refuses every ADD), no container has run, the event says
/// why, and no sandbox is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_network_set_up_starts_nothing_and_keeps_no_sandbox() {
    let cni = tempfile::tempdir().unwrap();
    let (conf_dir, bin_dir) = (cni.path().join("net.d"), cni.path().join("bin"));
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::write(
        conf_dir.join("10-refuse.conflist"),
        json!({"cniVersion": "1.0.0", "name": "refuse", "plugins": [{"type": "refuse"}]})
            .to_string(),
    )
    .unwrap();
    let plugin = bin_dir.join("refuse");
    std::fs::write(
        &plugin,
        "#!/bin/sh\ncat >/dev/null\ncase \"$CNI_COMMAND\" in\n\
         ADD) echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no address for this pod\"}'; exit 1;;\n\
         VERSION) echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}';;\n\
         esac\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = Env::with_config(|cfg| cfg.cni = Some((conf_dir.clone(), bin_dir.clone()))).await;
    let host_dir = env.tmp.path().join("ran");
    std::fs::create_dir_all(&host_dir).unwrap();
    let mut c = busybox("main", "touch /host/ran; sleep 3600");
    c["volumeMounts"] = json!([{"name": "host", "mountPath": "/host"}]);
    env.create(json!({
        "metadata": {"name": "unnetworked"},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [c],
                 "volumes": [{"name": "host", "hostPath": {"path": host_dir}}]}
    }))
    .await;
    let mut failures = 0;
    for _ in 0..300 {
        failures = env
            .events_of("unnetworked")
            .await
            .iter()
            .filter(|e| e.reason.as_deref() == Some("FailedCreatePodSandBox"))
            .filter(|e| {
                e.message
                    .as_deref()
                    .is_some_and(|m| m.contains("no address for this pod"))
            })
            .map(|e| e.count.unwrap_or(1))
            .sum::<i32>();
        if failures >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        failures >= 2,
        "expected repeated FailedCreatePodSandBox events"
    );
    assert!(
        !host_dir.join("ran").exists(),
        "the container ran without a network"
    );
    let p = env.pods().get("unnetworked").await.unwrap();
    assert_eq!(phase(&p), "Pending");
    assert!(p.status.and_then(|s| s.pod_ip).is_none());
    // Each failed attempt removed its sandbox: at most the one being tried is there.
    let uid = p.metadata.uid.unwrap_or_default();
    let rt = env.runtime();
    let sandboxes = rt
        .list_sandboxes()
        .into_iter()
        .filter(|s| s.uid == uid)
        .count();
    assert!(sandboxes <= 1, "{sandboxes} sandboxes kept");
    env.delete_and_wait("unnetworked", 30).await;
}
