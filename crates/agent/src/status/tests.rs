use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use peapod_runtime::{ContainerState as RtState, ContainerStatus as RtStatus};

use super::*;

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
}

fn pod(policy: &str, init: &[&str], apps: &[&str]) -> Pod {
    let c = |n: &&str| Container {
        name: n.to_string(),
        image: Some("busybox".into()),
        ..Default::default()
    };
    Pod {
        spec: Some(PodSpec {
            restart_policy: Some(policy.into()),
            init_containers: (!init.is_empty()).then(|| init.iter().map(c).collect()),
            containers: apps.iter().map(c).collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn rt(id: &str, state: RtState, exit: Option<i32>, restarts: u32) -> RtStatus {
    RtStatus {
        id: id.into(),
        name: "c".into(),
        sandbox_id: "s".into(),
        state,
        pid: None,
        exit_code: exit,
        created_at: t(0),
        started_at: Some(t(1)),
        finished_at: (state == RtState::Exited).then(|| t(5)),
        reason: exit.map(|c| if c == 0 { "Completed" } else { "Error" }.to_string()),
        message: None,
        log_path: "/dev/null".into(),
        restart_count: restarts,
    }
}

fn cv(name: &str, current: Option<RtStatus>) -> ContainerView {
    ContainerView {
        name: name.into(),
        image: "docker.io/library/busybox:latest".into(),
        image_id: "sha256:abc".into(),
        current,
        ready: true,
        started: true,
        ..Default::default()
    }
}

fn view<'a>(pod: &'a Pod, init: Vec<ContainerView>, apps: Vec<ContainerView>) -> PodView<'a> {
    PodView {
        pod,
        init,
        containers: apps,
        sandbox_ready: true,
        pod_ips: vec!["10.42.0.5".into()],
        host_ip: "192.0.2.1".into(),
        start_time: Some(t(0)),
        terminal: None,
        now: t(10),
    }
}

fn cond<'a>(
    s: &'a k8s_openapi::api::core::v1::PodStatus,
    kind: &str,
) -> &'a k8s_openapi::api::core::v1::PodCondition {
    s.conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == kind)
        .unwrap()
}

#[test]
fn two_running_containers_are_ready() {
    let p = pod("Always", &[], &["a", "b"]);
    let s = build_status(&view(
        &p,
        vec![],
        vec![
            cv("a", Some(rt("1", RtState::Running, None, 0))),
            cv("b", Some(rt("2", RtState::Running, None, 0))),
        ],
    ));
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(cond(&s, "Ready").status, "True");
    assert_eq!(cond(&s, "ContainersReady").status, "True");
    assert_eq!(cond(&s, "Initialized").status, "True");
    assert_eq!(cond(&s, "PodReadyToStartContainers").status, "True");
    assert_eq!(s.pod_ip.as_deref(), Some("10.42.0.5"));
    assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
    let a = &s.container_statuses.as_ref().unwrap()[0];
    assert_eq!(a.container_id.as_deref(), Some("peapod://1"));
    assert!(a.ready);
    assert_eq!(a.started, Some(true));
    assert_eq!(
        a.state
            .as_ref()
            .unwrap()
            .running
            .as_ref()
            .unwrap()
            .started_at,
        Some(peapod_apimachinery::timeconv::time(t(1)))
    );
}

#[test]
fn unready_container_lists_names_like_go() {
    let p = pod("Always", &[], &["a", "b"]);
    let mut b = cv("b", Some(rt("2", RtState::Running, None, 0)));
    b.ready = false;
    let s = build_status(&view(
        &p,
        vec![],
        vec![cv("a", Some(rt("1", RtState::Running, None, 0))), b],
    ));
    let ready = cond(&s, "Ready");
    assert_eq!(ready.status, "False");
    assert_eq!(ready.reason.as_deref(), Some("ContainersNotReady"));
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [b]")
    );
}

#[test]
fn waiting_before_creation_depends_on_init_containers() {
    let p = pod("Always", &["init"], &["app"]);
    let s = build_status(&view(
        &p,
        vec![cv("init", Some(rt("1", RtState::Running, None, 0)))],
        vec![cv("app", None)],
    ));
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    let app = &s.container_statuses.as_ref().unwrap()[0];
    assert_eq!(
        app.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("PodInitializing")
    );
    let init = cond(&s, "Initialized");
    assert_eq!(init.status, "False");
    assert_eq!(
        init.message.as_deref(),
        Some("containers with incomplete status: [init]")
    );

    let p2 = pod("Always", &[], &["app"]);
    let s2 = build_status(&view(&p2, vec![], vec![cv("app", None)]));
    let app = &s2.container_statuses.as_ref().unwrap()[0];
    assert_eq!(
        app.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("ContainerCreating")
    );
    assert!(s2.init_container_statuses.is_none());
}

#[test]
fn phases_by_restart_policy() {
    let exited = |code| Some(rt("1", RtState::Exited, Some(code), 0));
    for (policy, code, want) in [
        ("Never", 0, "Succeeded"),
        ("Never", 1, "Failed"),
        ("OnFailure", 0, "Succeeded"),
        ("Always", 0, "Running"),
    ] {
        let p = pod(policy, &[], &["c"]);
        let s = build_status(&view(&p, vec![], vec![cv("c", exited(code))]));
        assert_eq!(s.phase.as_deref(), Some(want), "{policy} exit {code}");
        let term = s.container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(term.exit_code, code);
        assert_eq!(
            term.reason.as_deref(),
            Some(if code == 0 { "Completed" } else { "Error" })
        );
    }
    let p = pod("Never", &[], &["c"]);
    let s = build_status(&view(&p, vec![], vec![cv("c", exited(0))]));
    assert_eq!(cond(&s, "Ready").reason.as_deref(), Some("PodCompleted"));
}

#[test]
fn crash_loop_shows_waiting_with_last_state() {
    let p = pod("Always", &[], &["c"]);
    let mut c = cv("c", Some(rt("9", RtState::Exited, Some(1), 2)));
    c.waiting = Some(Waiting::new(
        "CrashLoopBackOff",
        Some("back-off 20s restarting failed container=c pod=p_default(u)".to_string()),
    ));
    let s = build_status(&view(&p, vec![], vec![c]));
    assert_eq!(s.phase.as_deref(), Some("Running"));
    let st = &s.container_statuses.as_ref().unwrap()[0];
    assert_eq!(st.restart_count, 2);
    assert_eq!(
        st.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("CrashLoopBackOff")
    );
    let last = st.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(last.exit_code, 1);
    assert_eq!(last.container_id.as_deref(), Some("peapod://9"));
    assert!(!st.ready);
}

#[test]
fn failed_init_with_never_fails_pod() {
    let p = pod("Never", &["init"], &["app"]);
    let s = build_status(&view(
        &p,
        vec![cv("init", Some(rt("1", RtState::Exited, Some(3), 0)))],
        vec![cv("app", None)],
    ));
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    let p = pod("OnFailure", &["init"], &["app"]);
    let s = build_status(&view(
        &p,
        vec![cv("init", Some(rt("1", RtState::Exited, Some(3), 0)))],
        vec![cv("app", None)],
    ));
    assert_eq!(s.phase.as_deref(), Some("Pending"));
}

#[test]
fn transition_times_are_kept_while_status_holds() {
    let mut p = pod("Always", &[], &["c"]);
    let first = build_status(&view(
        &p,
        vec![],
        vec![cv("c", Some(rt("1", RtState::Running, None, 0)))],
    ));
    p.status = Some(first.clone());
    let mut v = view(
        &p,
        vec![],
        vec![cv("c", Some(rt("1", RtState::Running, None, 0)))],
    );
    v.now = t(100);
    let second = build_status(&v);
    assert_eq!(
        cond(&second, "Ready").last_transition_time,
        cond(&first, "Ready").last_transition_time
    );
    let mut c = cv("c", Some(rt("1", RtState::Running, None, 0)));
    c.ready = false;
    let mut v = view(&p, vec![], vec![c]);
    v.now = t(100);
    let third = build_status(&v);
    assert_eq!(
        cond(&third, "Ready")
            .last_transition_time
            .as_ref()
            .map(peapod_apimachinery::timeconv::from_time)
            .unwrap(),
        t(100)
    );
}

#[test]
fn terminal_decision_wins() {
    let p = pod("Always", &[], &["c"]);
    let mut v = view(&p, vec![], vec![cv("c", None)]);
    v.terminal = Some(Terminal {
        phase: "Failed",
        reason: "OutOfmemory".into(),
        message: "Pod was rejected: Node didn't have enough resource: memory".into(),
    });
    let s = build_status(&v);
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    assert_eq!(s.reason.as_deref(), Some("OutOfmemory"));
    // Rejected before any container existed: no container statuses to hide the reason.
    assert_eq!(s.container_statuses, None);
}

#[test]
fn completed_init_container_is_ready_and_failed_one_is_not() {
    let p = pod("Always", &["ok", "bad"], &["app"]);
    let s = build_status(&view(
        &p,
        vec![
            cv("ok", Some(rt("1", RtState::Exited, Some(0), 0))),
            cv("bad", Some(rt("2", RtState::Exited, Some(1), 0))),
        ],
        vec![cv("app", None)],
    ));
    let inits = s.init_container_statuses.as_ref().unwrap();
    assert!(inits[0].ready, "a completed init container is ready");
    assert_eq!(inits[0].started, Some(false));
    assert!(!inits[1].ready, "a failed init container is not");
}
