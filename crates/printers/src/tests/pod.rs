use super::{ago, cell, text};
use crate::row_conditions;
use peapod_apimachinery::gvk::kinds::POD;
use serde_json::{json, Value};

/// A pod named "web", created 30s ago, with the given spec and status.
fn pod(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(30)},
        "spec": spec,
        "status": status,
    })
}

fn containers(names: &[&str]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| json!({"name": n, "image": "busybox"}))
            .collect(),
    )
}

fn running(name: &str, ready: bool) -> Value {
    json!({"name": name, "ready": ready, "restartCount": 0, "state": {"running": {"startedAt": ago(20)}}})
}

fn waiting(name: &str, reason: &str) -> Value {
    json!({"name": name, "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}})
}

fn terminated(name: &str, terminated: Value) -> Value {
    json!({"name": name, "ready": false, "restartCount": 0, "state": {"terminated": terminated}})
}

fn status_of(p: &Value) -> String {
    text(POD, p, "Status")
}

fn ready_of(p: &Value) -> String {
    text(POD, p, "Ready")
}

#[test]
fn pending_without_container_statuses() {
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Pending"}),
    );
    assert_eq!(status_of(&p), "Pending");
    assert_eq!(ready_of(&p), "0/1");
    assert_eq!(text(POD, &p, "Restarts"), "0");
    assert_eq!(text(POD, &p, "Age"), "30s");
    assert_eq!(text(POD, &p, "Name"), "web");
}

#[test]
fn container_creating() {
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Pending", "containerStatuses": [waiting("app", "ContainerCreating")]}),
    );
    assert_eq!(status_of(&p), "ContainerCreating");
}

#[test]
fn image_pull_backoff_and_err_image_pull() {
    for reason in [
        "ImagePullBackOff",
        "ErrImagePull",
        "CreateContainerConfigError",
    ] {
        let p = pod(
            json!({"containers": containers(&["app"])}),
            json!({"phase": "Pending", "containerStatuses": [waiting("app", reason)]}),
        );
        assert_eq!(status_of(&p), reason);
    }
}

#[test]
fn init_waiting_for_pod_initializing_counts_progress() {
    let p = pod(
        json!({"initContainers": containers(&["setup"]), "containers": containers(&["app"])}),
        json!({
            "phase": "Pending",
            "initContainerStatuses": [waiting("setup", "PodInitializing")],
            "containerStatuses": [waiting("app", "PodInitializing")],
        }),
    );
    assert_eq!(status_of(&p), "Init:0/1");
    assert_eq!(ready_of(&p), "0/1");
}

#[test]
fn init_progress_after_first_of_two_succeeded() {
    let p = pod(
        json!({"initContainers": containers(&["a", "b"]), "containers": containers(&["app"])}),
        json!({
            "phase": "Pending",
            "initContainerStatuses": [
                terminated("a", json!({"exitCode": 0, "reason": "Completed"})),
                running("b", false),
            ],
        }),
    );
    assert_eq!(status_of(&p), "Init:1/2");
}

#[test]
fn init_crash_loop_back_off() {
    let mut s = waiting("setup", "CrashLoopBackOff");
    s["restartCount"] = json!(4);
    s["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(65)}});
    let p = pod(
        json!({"initContainers": containers(&["setup"]), "containers": containers(&["app"])}),
        json!({"phase": "Pending", "initContainerStatuses": [s]}),
    );
    assert_eq!(status_of(&p), "Init:CrashLoopBackOff");
    // While initializing, init container restarts count.
    assert_eq!(text(POD, &p, "Restarts"), "4 (65s ago)");
}

#[test]
fn init_failure_reasons() {
    let cases = [
        (json!({"exitCode": 1, "reason": "Error"}), "Init:Error"),
        (json!({"exitCode": 3}), "Init:ExitCode:3"),
        (json!({"exitCode": 137, "signal": 9}), "Init:Signal:9"),
        (
            json!({"exitCode": 137, "reason": "OOMKilled"}),
            "Init:OOMKilled",
        ),
    ];
    for (state, want) in cases {
        let p = pod(
            json!({"initContainers": containers(&["setup"]), "containers": containers(&["app"])}),
            json!({"phase": "Pending", "initContainerStatuses": [terminated("setup", state)]}),
        );
        assert_eq!(status_of(&p), want);
    }
}

#[test]
fn pod_initializing_after_init_done() {
    let p = pod(
        json!({"initContainers": containers(&["setup"]), "containers": containers(&["app"])}),
        json!({
            "phase": "Pending",
            "conditions": [{"type": "Initialized", "status": "True"}],
            "initContainerStatuses": [terminated("setup", json!({"exitCode": 0, "reason": "Completed"}))],
            "containerStatuses": [waiting("app", "PodInitializing")],
        }),
    );
    assert_eq!(status_of(&p), "PodInitializing");
}

#[test]
fn running_with_one_of_two_ready() {
    let p = pod(
        json!({"containers": containers(&["app", "proxy"])}),
        json!({"phase": "Running", "containerStatuses": [running("app", true), running("proxy", false)]}),
    );
    assert_eq!(status_of(&p), "Running");
    assert_eq!(ready_of(&p), "1/2");
}

#[test]
fn running_all_ready() {
    let p = pod(
        json!({"containers": containers(&["app", "proxy"])}),
        json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [running("app", true), running("proxy", true)],
        }),
    );
    assert_eq!(status_of(&p), "Running");
    assert_eq!(ready_of(&p), "2/2");
}

#[test]
fn completed_pod_and_row_condition() {
    let p = pod(
        json!({"containers": containers(&["job"])}),
        json!({
            "phase": "Succeeded",
            "containerStatuses": [terminated("job", json!({"exitCode": 0, "reason": "Completed"}))],
        }),
    );
    assert_eq!(status_of(&p), "Completed");
    assert_eq!(ready_of(&p), "0/1");
    let conditions = row_conditions(POD, &p).expect("succeeded pods carry a row condition");
    assert_eq!(conditions[0]["type"], "Completed");
    assert_eq!(conditions[0]["reason"], "Succeeded");
}

#[test]
fn running_pod_has_no_row_condition() {
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Running"}),
    );
    assert!(row_conditions(POD, &p).is_none());
}

#[test]
fn error_and_oom_killed() {
    for (state, want) in [
        (json!({"exitCode": 1, "reason": "Error"}), "Error"),
        (json!({"exitCode": 137, "reason": "OOMKilled"}), "OOMKilled"),
    ] {
        let p = pod(
            json!({"containers": containers(&["app"])}),
            json!({"phase": "Failed", "containerStatuses": [terminated("app", state)]}),
        );
        assert_eq!(status_of(&p), want);
    }
}

#[test]
fn exit_code_and_signal_without_reason() {
    for (state, want) in [
        (json!({"exitCode": 3}), "ExitCode:3"),
        (json!({"exitCode": 0, "signal": 15}), "Signal:15"),
    ] {
        let p = pod(
            json!({"containers": containers(&["app"])}),
            json!({"phase": "Failed", "containerStatuses": [terminated("app", state)]}),
        );
        assert_eq!(status_of(&p), want);
    }
}

#[test]
fn crash_loop_back_off_with_restart_age() {
    let mut s = waiting("app", "CrashLoopBackOff");
    s["restartCount"] = json!(5);
    s["lastState"] =
        json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(125)}});
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Running", "containerStatuses": [s]}),
    );
    assert_eq!(status_of(&p), "CrashLoopBackOff");
    assert_eq!(text(POD, &p, "Restarts"), "5 (2m5s ago)");
}

#[test]
fn restarts_sum_containers_and_use_latest_termination() {
    let mut a = running("a", true);
    a["restartCount"] = json!(2);
    a["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(600)}});
    let mut b = running("b", true);
    b["restartCount"] = json!(1);
    b["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(30)}});
    let p = pod(
        json!({"containers": containers(&["a", "b"])}),
        json!({"phase": "Running", "containerStatuses": [a, b]}),
    );
    assert_eq!(text(POD, &p, "Restarts"), "3 (30s ago)");
}

#[test]
fn zero_restarts_never_show_age() {
    let mut s = running("app", true);
    s["lastState"] = json!({"terminated": {"exitCode": 0, "finishedAt": ago(30)}});
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Running", "containerStatuses": [s]}),
    );
    assert_eq!(text(POD, &p, "Restarts"), "0");
}

#[test]
fn restarts_without_finished_at_are_a_plain_number() {
    let mut s = running("app", true);
    s["restartCount"] = json!(7);
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Running", "containerStatuses": [s]}),
    );
    assert_eq!(text(POD, &p, "Restarts"), "7");
}

#[test]
fn terminating_when_deletion_requested() {
    let mut p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Running", "containerStatuses": [running("app", true)]}),
    );
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(status_of(&p), "Terminating");
}

#[test]
fn finished_pod_being_deleted_keeps_its_status() {
    let mut p = pod(
        json!({"containers": containers(&["job"])}),
        json!({
            "phase": "Succeeded",
            "containerStatuses": [terminated("job", json!({"exitCode": 0, "reason": "Completed"}))],
        }),
    );
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(status_of(&p), "Completed");
}

#[test]
fn node_lost_while_deleting_is_unknown() {
    let mut p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Running", "reason": "NodeLost", "containerStatuses": [running("app", true)]}),
    );
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(status_of(&p), "Unknown");
}

#[test]
fn status_reason_overrides_phase() {
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Failed", "reason": "Evicted"}),
    );
    assert_eq!(status_of(&p), "Evicted");
}

#[test]
fn scheduling_gated() {
    let p = pod(
        json!({"containers": containers(&["app"]), "schedulingGates": [{"name": "example.com/gate"}]}),
        json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
    );
    assert_eq!(status_of(&p), "SchedulingGated");
}

#[test]
fn completed_container_next_to_running_one() {
    let statuses = json!([
        terminated("once", json!({"exitCode": 0, "reason": "Completed"})),
        running("server", true),
    ]);
    let not_ready = pod(
        json!({"containers": containers(&["once", "server"])}),
        json!({"phase": "Running", "containerStatuses": statuses.clone()}),
    );
    assert_eq!(status_of(&not_ready), "NotReady");
    let ready = pod(
        json!({"containers": containers(&["once", "server"])}),
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": statuses}),
    );
    assert_eq!(status_of(&ready), "Running");
    assert_eq!(ready_of(&ready), "1/2");
}

/// A pod with one sidecar (restartable init container) and one app container.
fn sidecar_pod(sidecar_status: Value, app_statuses: Value, initialized: bool) -> Value {
    let init = json!([{"name": "mesh", "image": "envoy", "restartPolicy": "Always"}]);
    pod(
        json!({"initContainers": init, "containers": containers(&["app"])}),
        json!({
            "phase": if initialized { "Running" } else { "Pending" },
            "conditions": [{"type": "Initialized", "status": if initialized { "True" } else { "False" }}],
            "initContainerStatuses": [sidecar_status],
            "containerStatuses": app_statuses,
        }),
    )
}

#[test]
fn sidecar_counts_towards_ready_and_total() {
    let mut mesh = running("mesh", true);
    mesh["started"] = json!(true);
    mesh["restartCount"] = json!(1);
    mesh["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(90)}});
    let p = sidecar_pod(mesh, json!([running("app", true)]), true);
    assert_eq!(ready_of(&p), "2/2");
    assert_eq!(status_of(&p), "Running");
    // Sidecar restarts still count after initialization.
    assert_eq!(text(POD, &p, "Restarts"), "1 (90s ago)");
}

#[test]
fn sidecar_started_but_not_ready() {
    let mut mesh = running("mesh", false);
    mesh["started"] = json!(true);
    let p = sidecar_pod(mesh, json!([running("app", true)]), true);
    assert_eq!(ready_of(&p), "1/2");
    assert_eq!(status_of(&p), "Running");
}

#[test]
fn sidecar_not_started_blocks_initialization() {
    let mut mesh = running("mesh", false);
    mesh["started"] = json!(false);
    let p = sidecar_pod(mesh, json!([waiting("app", "PodInitializing")]), false);
    assert_eq!(status_of(&p), "Init:0/1");
    assert_eq!(ready_of(&p), "0/2");
}

#[test]
fn wide_cells() {
    let p = pod(
        json!({
            "containers": containers(&["app"]),
            "nodeName": "node1",
            "readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}],
        }),
        json!({
            "phase": "Running",
            "podIP": "10.244.0.9",
            "podIPs": [{"ip": "10.244.0.9"}, {"ip": "fd00::9"}],
            "conditions": [{"type": "example.com/lb", "status": "True"}, {"type": "example.com/dns", "status": "False"}],
        }),
    );
    assert_eq!(text(POD, &p, "IP"), "10.244.0.9");
    assert_eq!(text(POD, &p, "Node"), "node1");
    assert_eq!(text(POD, &p, "Nominated Node"), "<none>");
    assert_eq!(text(POD, &p, "Readiness Gates"), "1/2");
}

#[test]
fn wide_cells_default_to_none() {
    let p = pod(
        json!({"containers": containers(&["app"])}),
        json!({"phase": "Pending", "nominatedNodeName": "node2"}),
    );
    assert_eq!(text(POD, &p, "IP"), "<none>");
    assert_eq!(text(POD, &p, "Node"), "<none>");
    assert_eq!(text(POD, &p, "Nominated Node"), "node2");
    assert_eq!(text(POD, &p, "Readiness Gates"), "<none>");
}

#[test]
fn odd_objects_do_not_panic() {
    for odd in [
        json!(null),
        json!({}),
        json!("pod"),
        json!({"status": {"containerStatuses": "x"}}),
        json!({"status": {"initContainerStatuses": [null, 3, {"state": null}]}, "metadata": {"creationTimestamp": "yesterday"}}),
    ] {
        assert_eq!(text(POD, &odd, "Age"), "<unknown>");
        let _ = cell(POD, &odd, "Status");
    }
}
