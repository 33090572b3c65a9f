//! `peapod server` stops on SIGTERM at once, as the kubelet does: running pods keep running,
//! a termination in progress resumes after the restart, acknowledged writes survive.

mod common;

use std::time::Duration;

use common::{apply, eventually, wait_ready, TestServer};

fn pod_field(s: &TestServer, pod: &str, path: &str) -> String {
    s.ok(&["get", "pod", pod, "-o", &format!("jsonpath={path}")])
}

#[test]
fn server_stops_at_once_and_resumes_an_interrupted_termination() {
    let mut s = TestServer::start_node();
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: slowstop}
spec:
  terminationGracePeriodSeconds: 8
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: keeper}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}
"#,
    );
    wait_ready(&s, "slowstop");
    wait_ready(&s, "keeper");
    let started = pod_field(
        &s,
        "keeper",
        "{.status.containerStatuses[0].state.running.startedAt}",
    );
    // `sleep` as PID 1 ignores SIGTERM: stopping it waits out the whole grace period, which
    // the server must not wait for when it is told to stop.
    s.ok(&["delete", "pod", "slowstop", "--wait=false"]);
    s.ok(&[
        "create",
        "configmap",
        "written-before-stop",
        "--from-literal=k=v",
    ]);
    std::thread::sleep(Duration::from_secs(1));
    let took = s.terminate();
    assert!(
        took < Duration::from_secs(2),
        "the server took {took:?} to stop:\n{}",
        s.log_tail(30)
    );

    s.start_again();
    assert_eq!(
        s.ok(&[
            "get",
            "cm",
            "written-before-stop",
            "-o",
            "jsonpath={.data.k}"
        ]),
        "v"
    );
    eventually(60, "the interrupted termination finished", || {
        let out = s.kubectl(&["get", "pod", "slowstop", "-o", "name"]);
        (!out.status.success()).then_some(())
    });
    // The pod that was not being deleted ran on, untouched, through the restart.
    wait_ready(&s, "keeper");
    assert_eq!(
        pod_field(
            &s,
            "keeper",
            "{.status.containerStatuses[0].state.running.startedAt}"
        ),
        started
    );
    assert_eq!(
        pod_field(&s, "keeper", "{.status.containerStatuses[0].restartCount}"),
        "0"
    );
}
