//! End-to-end pod lifecycle edges: finished pods, agent restarts, probe grace periods,
//! failing hooks, node admission texts and deadlines (real API server, agent and runtime).

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, WatchEvent, WatchParams};
use serde_json::json;

fn busybox(name: &str, cmd: &str) -> serde_json::Value {
    json!({"name": name, "image": "busybox", "imagePullPolicy": "IfNotPresent",
           "command": ["sh", "-c", cmd]})
}

fn status_of(p: &Pod, container: &str) -> Option<ContainerStatus> {
    p.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == container)
        .cloned()
}

fn waiting_reason(p: &Pod, container: &str) -> Option<String> {
    status_of(p, container)?.state?.waiting?.reason
}

/// Deletes with a short grace period (the pods here ask for long ones) and waits.
async fn delete_fast(env: &Env, name: &str) {
    let _ = env
        .pods()
        .delete(name, &DeleteParams::default().grace_period(1))
        .await;
    env.delete_and_wait(name, 30).await;
}

/// Terminal pods vanish from the API at once; the agent cleans up right after.
async fn wait_no_sandboxes(env: &Env) {
    let rt = env.runtime();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rt.list_sandboxes().is_empty() {
        assert!(Instant::now() < deadline, "sandboxes left behind");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The builtin network's address allocation file for `ip`.
fn ipam_file(env: &Env, ip: &str) -> std::path::PathBuf {
    env.cfg
        .data_dir
        .join("builtin")
        .join(&env.cfg.bridge_name)
        .join("ipam")
        .join(ip)
}

/// Node CPU in millicores, from the Node's allocatable.
async fn node_cpu_milli(env: &Env) -> i64 {
    let api: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(env.client.clone());
    let node = api.get(&env.cfg.node_name).await.expect("node");
    let q = node.status.unwrap().allocatable.unwrap()["cpu"].0.clone();
    match q.strip_suffix('m') {
        Some(m) => m.parse().unwrap(),
        None => q.parse::<i64>().unwrap() * 1000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finished_pod_releases_sandbox_and_ip_but_keeps_logs() {
    let env = Env::new().await;
    let mut side = busybox("side", "sleep 3600");
    side["restartPolicy"] = json!("Always");
    env.create(json!({
        "metadata": {"name": "done"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "initContainers": [side],
                 "containers": [busybox("c", "echo hello-from-done; sleep 3")]}
    }))
    .await;
    let p = env
        .wait_for("done", 60, "Running", |p| phase(p) == "Running")
        .await;
    let ip = p.status.as_ref().unwrap().pod_ip.clone().expect("podIP");
    assert!(ipam_file(&env, &ip).exists(), "{ip} not allocated");

    let p = env
        .wait_for("done", 60, "stopped sandbox", |p| {
            phase(p) == "Succeeded"
                && condition(p, "PodReadyToStartContainers").as_deref() == Some("False")
        })
        .await;
    // The kubelet keeps reporting the IP of a finished pod, but the address is free.
    assert_eq!(
        p.status.as_ref().unwrap().pod_ip.as_deref(),
        Some(ip.as_str())
    );
    assert!(!ipam_file(&env, &ip).exists(), "{ip} still allocated");
    let rt = env.runtime();
    let sandboxes = rt.list_sandboxes();
    assert_eq!(sandboxes.len(), 1);
    assert_eq!(sandboxes[0].state, peapod_runtime::SandboxState::NotReady);
    // The sidecar was stopped with the pod.
    let side = p
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .as_ref()
        .unwrap()[0]
        .clone();
    assert!(
        side.state.unwrap().terminated.is_some(),
        "sidecar still running"
    );

    // What `kubectl logs` reads (the streaming backend's log source) still works.
    let id = container_id(&p, "c").unwrap();
    let st = rt
        .container_status(&id)
        .expect("container status after stop");
    assert_eq!(st.state, peapod_runtime::ContainerState::Exited);
    let log = rt.container_log_path(&id).expect("log path after stop");
    let text = std::fs::read_to_string(&log).expect("log file");
    assert!(text.contains("hello-from-done"), "{text}");

    env.delete_and_wait("done", 30).await;
    wait_no_sandboxes(&env).await;
    // The pod's logs go with it, after its sandbox (the cleanup removes them last).
    let deadline = Instant::now() + Duration::from_secs(20);
    while log.exists() {
        assert!(Instant::now() < deadline, "logs left behind");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_restart_keeps_back_off_image_ids_and_frees_finished_pods() {
    let mut env = Env::new().await;
    let cpu = node_cpu_milli(&env).await;
    // Two of these cannot both be admitted.
    let big = format!("{}m", cpu * 6 / 10);
    let mut done = busybox("c", "exit 0");
    done["resources"] = json!({"requests": {"cpu": big}});
    env.create(json!({
        "metadata": {"name": "big-done"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "containers": [done]}
    }))
    .await;
    env.create(json!({
        "metadata": {"name": "img"},
        "spec": {"terminationGracePeriodSeconds": 1,
                 "containers": [busybox("c", "sleep 3600")]}
    }))
    .await;
    env.wait_for("big-done", 60, "Succeeded", |p| phase(p) == "Succeeded")
        .await;
    let img = env
        .wait_for("img", 60, "Running", |p| phase(p) == "Running")
        .await;
    let image_id = status_of(&img, "c").unwrap().image_id;
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    // Created last so that its 10 s back-off is not spent waiting for the others.
    env.create(json!({
        "metadata": {"name": "crash"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [busybox("c", "exit 1")]}
    }))
    .await;
    let crash = env
        .wait_for("crash", 60, "CrashLoopBackOff", |p| {
            restarts(p, "c") == 1 && waiting_reason(p, "c").as_deref() == Some("CrashLoopBackOff")
        })
        .await;
    let finished_at = status_of(&crash, "c")
        .unwrap()
        .last_state
        .unwrap()
        .terminated
        .unwrap()
        .finished_at
        .unwrap()
        .0;

    env.stop_agent().await;
    // Lose what the status said about the image: the agent must find it again.
    let mut statuses = img.status.clone().unwrap().container_statuses.unwrap();
    statuses[0].image_id = String::new();
    env.pods()
        .patch_status(
            "img",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"containerStatuses": statuses}})),
        )
        .await
        .expect("blanking imageID");
    env.start_agent();

    // The back-off (10 s after the first restart) survives the agent restart.
    let watch_until_ms = (finished_at.as_second() + 10 - 1) * 1000;
    let mut watched = Duration::ZERO;
    let began = Instant::now();
    while chrono::Utc::now().timestamp_millis() < watch_until_ms {
        let p = env.pods().get("crash").await.unwrap();
        assert_eq!(restarts(&p, "c"), 1, "restarted inside its back-off");
        watched = began.elapsed();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        watched >= Duration::from_secs(2),
        "agent restart took too long to observe the back-off ({watched:?})"
    );
    env.wait_for("crash", 60, "restart after the back-off", |p| {
        restarts(p, "c") >= 2
    })
    .await;

    env.wait_for("img", 30, "imageID", |p| {
        status_of(p, "c").is_some_and(|s| s.image_id == image_id)
    })
    .await;

    // The finished pod no longer holds its CPU: a second big pod fits.
    let mut after = busybox("c", "sleep 3600");
    after["resources"] = json!({"requests": {"cpu": big}});
    env.create(json!({
        "metadata": {"name": "big-after"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [after]}
    }))
    .await;
    let p = env
        .wait_for("big-after", 60, "Running or rejected", |p| {
            phase(p) == "Running" || phase(p) == "Failed"
        })
        .await;
    assert_eq!(
        phase(&p),
        "Running",
        "rejected: {:?}",
        p.status.as_ref().and_then(|s| s.message.clone())
    );

    for name in ["big-done", "crash", "img", "big-after"] {
        env.delete_and_wait(name, 30).await;
    }
    wait_no_sandboxes(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn liveness_kill_uses_the_probes_grace_period() {
    let env = Env::new().await;
    // Ignores SIGTERM: only the grace period's SIGKILL ends it.
    let mut c = busybox("c", "trap '' TERM; while true; do sleep 1; done");
    c["livenessProbe"] = json!({"exec": {"command": ["cat", "/nonexistent"]},
        "periodSeconds": 1, "failureThreshold": 1, "terminationGracePeriodSeconds": 2});
    env.create(json!({
        "metadata": {"name": "probe-grace"},
        "spec": {"terminationGracePeriodSeconds": 120, "containers": [c]}
    }))
    .await;
    env.wait_for("probe-grace", 60, "Running", |p| phase(p) == "Running")
        .await;
    // With the pod's 120 s this would take minutes.
    let p = env
        .wait_for("probe-grace", 25, "liveness restart", |p| {
            restarts(p, "c") >= 1
        })
        .await;
    let last = status_of(&p, "c")
        .unwrap()
        .last_state
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(last.exit_code, 137, "not killed by SIGKILL");
    delete_fast(&env, "probe-grace").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_post_start_hook_reports_and_backs_off() {
    let env = Env::new().await;
    let mut c = busybox("c", "sleep 3600");
    c["lifecycle"] = json!({"postStart": {"exec": {"command": ["sh", "-c", "exit 7"]}}});
    let pods = env.pods();
    let mut watch = pods
        .watch(
            &WatchParams::default().fields("metadata.name=hook-fail"),
            "0",
        )
        .await
        .expect("watch")
        .boxed();
    env.create(json!({
        "metadata": {"name": "hook-fail"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [c]}
    }))
    .await;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut hook_error = None;
    while !(hook_error.is_some() && seen.iter().any(|r| r == "CrashLoopBackOff")) {
        let ev = tokio::time::timeout_at(deadline, watch.next())
            .await
            .unwrap_or_else(|_| panic!("waiting reasons seen: {seen:?}"));
        let Some(Ok(WatchEvent::Modified(p) | WatchEvent::Added(p))) = ev else {
            continue;
        };
        if let Some(w) = status_of(&p, "c")
            .and_then(|s| s.state)
            .and_then(|s| s.waiting)
        {
            let reason = w.reason.unwrap_or_default();
            if reason == "PostStartHookError" {
                hook_error = w.message.clone();
            }
            if seen.last() != Some(&reason) {
                seen.push(reason);
            }
        }
    }
    let msg = hook_error.unwrap_or_default();
    assert!(msg.contains("exited with non-zero code"), "{msg}");
    let reasons: Vec<String> = env
        .wait_events(
            "hook-fail",
            10,
            "FailedPostStartHook, Killing, BackOff",
            |ev| {
                ["FailedPostStartHook", "Killing", "BackOff"]
                    .iter()
                    .all(|r| ev.iter().any(|e| e.reason.as_deref() == Some(*r)))
            },
        )
        .await
        .iter()
        .filter_map(|e| e.reason.clone())
        .collect();
    for r in ["FailedPostStartHook", "Killing", "BackOff"] {
        assert!(reasons.iter().any(|x| x == r), "missing {r} in {reasons:?}");
    }
    let p = pods.get("hook-fail").await.unwrap();
    assert!(restarts(&p, "c") >= 1);
    env.delete_and_wait("hook-fail", 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rejections_and_deadlines_read_like_the_kubelet() {
    let env = Env::new().await;
    let mut web = busybox("c", "sleep 3600");
    web["ports"] =
        json!([{"containerPort": 80, "hostPort": 18080 + (std::process::id() % 1000) as i32}]);
    env.create(json!({
        "metadata": {"name": "port-a"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [web.clone()]}
    }))
    .await;
    env.wait_for("port-a", 60, "Running", |p| phase(p) == "Running")
        .await;
    env.create(json!({
        "metadata": {"name": "port-b"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [web]}
    }))
    .await;
    let p = env
        .wait_for("port-b", 30, "rejection", |p| phase(p) == "Failed")
        .await;
    let st = p.status.clone().unwrap();
    assert_eq!(st.reason.as_deref(), Some("NodePorts"));
    let predicate =
        "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports";
    assert_eq!(
        st.message.as_deref(),
        Some(format!("Pod was rejected: {predicate}").as_str())
    );
    let events = env
        .wait_events("port-b", 10, "NodePorts", |ev| {
            ev.iter().any(|e| e.reason.as_deref() == Some("NodePorts"))
        })
        .await;
    let ev = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("NodePorts"))
        .expect("NodePorts event");
    assert_eq!(ev.message.as_deref(), Some(predicate));
    assert_eq!(ev.type_.as_deref(), Some("Warning"));

    env.create(json!({
        "metadata": {"name": "deadline"},
        "spec": {"activeDeadlineSeconds": 2, "terminationGracePeriodSeconds": 1,
                 "containers": [busybox("c", "sleep 3600")]}
    }))
    .await;
    let p = env
        .wait_for("deadline", 60, "deadline", |p| {
            phase(p) == "Failed"
                && condition(p, "PodReadyToStartContainers").as_deref() == Some("False")
        })
        .await;
    let st = p.status.clone().unwrap();
    assert_eq!(st.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(
        st.message.as_deref(),
        Some("Pod was active on the node longer than the specified deadline")
    );
    let killing = env
        .wait_events("deadline", 10, "Killing", |ev| {
            ev.iter().any(|e| e.reason.as_deref() == Some("Killing"))
        })
        .await
        .into_iter()
        .find(|e| e.reason.as_deref() == Some("Killing"))
        .expect("Killing event");
    assert_eq!(killing.message.as_deref(), Some("Stopping container c"));
    for name in ["port-a", "port-b", "deadline"] {
        env.delete_and_wait(name, 30).await;
    }
    wait_no_sandboxes(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unstartable_process_reports_run_container_error_and_backs_off() {
    let env = Env::new().await;
    let missing = json!({"name": "c", "image": "busybox", "imagePullPolicy": "IfNotPresent",
                         "command": ["/nonexistent"]});
    let pods = env.pods();
    let mut watch = pods
        .watch(
            &WatchParams::default().fields("metadata.name=run-fail"),
            "0",
        )
        .await
        .expect("watch")
        .boxed();
    env.create(json!({
        "metadata": {"name": "run-fail"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [missing.clone()]}
    }))
    .await;
    env.create(json!({
        "metadata": {"name": "run-fail-never"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "containers": [missing]}
    }))
    .await;
    let began = Instant::now();
    let mut seen: Vec<(String, String)> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !seen.iter().any(|(r, _)| r == "CrashLoopBackOff") {
        let ev = tokio::time::timeout_at(deadline, watch.next())
            .await
            .unwrap_or_else(|_| panic!("waiting reasons seen: {seen:?}"));
        let Some(Ok(WatchEvent::Modified(p) | WatchEvent::Added(p))) = ev else {
            continue;
        };
        if let Some(w) = status_of(&p, "c")
            .and_then(|s| s.state)
            .and_then(|s| s.waiting)
        {
            let entry = (w.reason.unwrap_or_default(), w.message.unwrap_or_default());
            if seen.last() != Some(&entry) {
                seen.push(entry);
            }
        }
    }
    let (_, msg) = seen
        .iter()
        .find(|(r, _)| r == "RunContainerError")
        .unwrap_or_else(|| panic!("no RunContainerError in {seen:?}"));
    assert!(msg.contains("/nonexistent"), "{msg}");
    // Attempts follow the back-off (now, at once again, then 10 s later), not every sync.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let attempts = env
        .events_of("run-fail")
        .await
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Failed"))
        .map(|e| e.count.unwrap_or(1))
        .sum::<i32>();
    let elapsed = began.elapsed().as_secs();
    assert!(
        (1..=3).contains(&attempts),
        "{attempts} failed attempts in {elapsed}s"
    );
    // Each attempt is a new instance: the restart count grows and the last state is the
    // attempt that could not start.
    let p = env
        .wait_for("run-fail", 30, "a restart counted", |p| {
            status_of(p, "c").is_some_and(|s| s.restart_count >= 1)
        })
        .await;
    let st = status_of(&p, "c").unwrap();
    let last = st.last_state.and_then(|s| s.terminated).expect("lastState");
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (128, Some("StartError"))
    );
    assert!(st.state.and_then(|s| s.waiting).is_some());

    // restartPolicy Never: one attempt, then the pod fails like with a StartError.
    let p = env
        .wait_for("run-fail-never", 30, "Failed", |p| phase(p) == "Failed")
        .await;
    let st = status_of(&p, "c").unwrap();
    let t = st.state.unwrap().terminated.expect("terminated");
    assert_eq!(
        (t.exit_code, t.reason.as_deref()),
        (128, Some("StartError"))
    );
    assert!(t.message.unwrap_or_default().contains("/nonexistent"));
    assert_eq!(st.restart_count, 0);
    for name in ["run-fail", "run-fail-never"] {
        env.delete_and_wait(name, 30).await;
    }
    wait_no_sandboxes(&env).await;
}
