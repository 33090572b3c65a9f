//! One row per rule: the pod (init containers, sidecars, apps, restartPolicy), what is
//! observed of each container, and the actions planned, written short.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Container;

use super::*;

/// t = 0 is 1_700_000_000 s; `now` is t = 100 unless a row says otherwise.
fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
}
const NOW: i64 = 100;

fn instance(state: RtState) -> Observed {
    Observed {
        current: Some(RtStatus {
            id: String::new(),
            name: String::new(),
            sandbox_id: String::new(),
            state,
            pid: None,
            exit_code: None,
            created_at: t(0),
            started_at: (state != RtState::Created).then(|| t(1)),
            finished_at: None,
            reason: None,
            message: None,
            log_path: PathBuf::new(),
            restart_count: 0,
        }),
        ..Observed::default()
    }
}

fn none() -> Observed {
    Observed::default()
}
fn created() -> Observed {
    instance(RtState::Created)
}
fn running() -> Observed {
    instance(RtState::Running)
}
fn exited(code: i32) -> Observed {
    let mut o = instance(RtState::Exited);
    let cur = o.current.as_mut().unwrap();
    cur.exit_code = Some(code);
    cur.finished_at = Some(t(95));
    o
}

impl Observed {
    fn started(mut self) -> Self {
        self.started = true;
        self
    }
    fn restarts(mut self, n: u32) -> Self {
        self.current.as_mut().unwrap().restart_count = n;
        self
    }
    /// The next restart waits `secs`.
    fn backoff(mut self, secs: u64) -> Self {
        self.backoff = Some(Duration::from_secs(secs));
        self
    }
    fn liveness_failed(mut self, grace: Option<u64>) -> Self {
        self.kill = Some(KillOrder {
            message: "Liveness probe failed".into(),
            grace: grace.map(Duration::from_secs),
        });
        self
    }
    fn create_failed_at(mut self, s: i64) -> Self {
        self.create_failed_at = Some(t(s));
        self
    }
    fn run_failed_at(mut self, s: i64, restart: u32) -> Self {
        self.failed_run = Some((t(s), restart));
        self
    }
    /// Ran from `started` to `finished` (seconds).
    fn ran(mut self, started: i64, finished: i64) -> Self {
        let cur = self.current.as_mut().unwrap();
        cur.started_at = Some(t(started));
        cur.finished_at = Some(t(finished));
        self
    }
    fn never_started(mut self) -> Self {
        let cur = self.current.as_mut().unwrap();
        cur.started_at = None;
        cur.finished_at = None;
        self
    }
}

/// A pod: `init` names init containers (`+name` is a sidecar), then the apps.
fn spec(init: &[&str], apps: &[&str], policy: &str) -> PodSpec {
    let container = |n: &str| Container {
        name: n.trim_start_matches('+').to_string(),
        restart_policy: n.starts_with('+').then(|| "Always".to_string()),
        ..Container::default()
    };
    PodSpec {
        init_containers: Some(init.iter().map(|n| container(n)).collect()),
        containers: apps.iter().map(|n| container(n)).collect(),
        restart_policy: Some(policy.to_string()),
        termination_grace_period_seconds: Some(30),
        ..PodSpec::default()
    }
}

/// An action in a few words: `start web #2`, `start web #1 replacing`, `together a,b`,
/// `backoff web 10s until 105`, `kill web 30s`, `clear web`.
fn short(a: &Action) -> String {
    match a {
        Action::Start {
            name,
            restart,
            replace,
            ..
        } => {
            let replacing = if replace.is_some() { " replacing" } else { "" };
            format!("start {name} #{restart}{replacing}")
        }
        Action::StartTogether { names } => format!("together {}", names.join(",")),
        Action::WaitBackOff {
            name, delay, until, ..
        } => format!(
            "backoff {name} {}s until {}",
            delay.as_secs(),
            until.timestamp() - 1_700_000_000
        ),
        Action::Kill { name, grace, .. } => format!("kill {name} {}s", grace.as_secs()),
        Action::ClearWaiting { name } => format!("clear {name}"),
    }
}

struct Row {
    what: &'static str,
    spec: PodSpec,
    observed: Vec<(&'static str, Observed)>,
    now: i64,
    want: &'static [&'static str],
}

fn row(
    what: &'static str,
    spec: PodSpec,
    observed: Vec<(&'static str, Observed)>,
    want: &'static [&'static str],
) -> Row {
    Row {
        what,
        spec,
        observed,
        now: NOW,
        want,
    }
}

fn at(now: i64, mut r: Row) -> Row {
    r.now = now;
    r
}

fn run(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for r in &rows {
        let observed = r
            .observed
            .iter()
            .map(|(n, o)| {
                let mut o = o.clone();
                if let Some(cur) = o.current.as_mut() {
                    cur.id = format!("id-{n}");
                    cur.name = n.to_string();
                }
                (n.to_string(), o)
            })
            .collect();
        let got: Vec<String> = plan(&r.spec, &observed, t(r.now))
            .iter()
            .map(short)
            .collect();
        if got != r.want {
            failures.push(format!("{}: got {got:?}, want {:?}", r.what, r.want));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn init_containers() {
    let s = |policy| spec(&["i1", "i2"], &["app"], policy);
    run(vec![
        row(
            "a new pod starts the first init container only",
            s("Always"),
            vec![],
            &["start i1 #0"],
        ),
        row(
            "the next waits while the first runs",
            s("Always"),
            vec![("i1", running())],
            &[],
        ),
        row(
            "the second starts once the first succeeded",
            s("Always"),
            vec![("i1", exited(0))],
            &["start i2 #0"],
        ),
        row(
            "apps start once all succeeded",
            s("Always"),
            vec![("i1", exited(0)), ("i2", exited(0))],
            &["start app #0"],
        ),
        row(
            "a created, never started init container is redone",
            s("Always"),
            vec![("i1", created().restarts(2))],
            &["start i1 #2 replacing"],
        ),
        row(
            "a failed init container under Never fails the pod: nothing more starts",
            s("Never"),
            vec![("i1", exited(1))],
            &[],
        ),
        row(
            "a failed init container under OnFailure restarts at once the first time",
            s("OnFailure"),
            vec![("i1", exited(1))],
            &["start i1 #1"],
        ),
        row(
            "a failed init container under Always restarts at once the first time",
            s("Always"),
            vec![("i1", exited(1))],
            &["start i1 #1"],
        ),
        row(
            "a failed init container then backs off, from its exit",
            s("OnFailure"),
            vec![("i1", exited(1).restarts(1).backoff(10))],
            &["backoff i1 10s until 105"],
        ),
        row(
            "apps wait while an init container backs off",
            s("Always"),
            vec![("i1", exited(0)), ("i2", exited(2).backoff(20))],
            &["backoff i2 20s until 115"],
        ),
        row(
            "an init container killed by its probe stops the pass",
            s("Always"),
            vec![("i1", running().liveness_failed(None))],
            &["kill i1 30s"],
        ),
    ]);
}

#[test]
fn sidecars() {
    let s = |policy| spec(&["+log", "i1"], &["app"], policy);
    run(vec![
        row(
            "a sidecar starts first",
            s("Always"),
            vec![],
            &["start log #0"],
        ),
        row(
            "the next init container waits for the sidecar's startup",
            s("Always"),
            vec![("log", running())],
            &[],
        ),
        row(
            "a started sidecar lets the next init container run",
            s("Always"),
            vec![("log", running().started())],
            &["start i1 #0"],
        ),
        row(
            "apps start beside the running sidecar",
            s("Never"),
            vec![("log", running().started()), ("i1", exited(0))],
            &["start app #0"],
        ),
        row(
            "an exited sidecar restarts even under Never",
            s("Never"),
            vec![("log", exited(0)), ("i1", exited(0)), ("app", running())],
            &["start log #1"],
        ),
        row(
            "a crash-looping sidecar backs off",
            s("Never"),
            vec![
                ("log", exited(1).restarts(3).backoff(40)),
                ("i1", exited(0)),
            ],
            &["backoff log 40s until 135"],
        ),
        row(
            "a sidecar killed by its liveness probe stops the pass",
            s("Always"),
            vec![("log", running().started().liveness_failed(Some(5)))],
            &["kill log 5s"],
        ),
        row(
            "sidecars start in order",
            spec(&["+a", "+b"], &["app"], "Always"),
            vec![("a", running().started())],
            &["start b #0"],
        ),
        row(
            "a sidecar that failed to run is retried under Never",
            s("Never"),
            vec![("log", none().run_failed_at(99, 0))],
            &["start log #1"],
        ),
    ]);
}

#[test]
fn app_restart_policy() {
    let s = |policy| spec(&[], &["web"], policy);
    run(vec![
        row(
            "Always restarts a success",
            s("Always"),
            vec![("web", exited(0))],
            &["start web #1"],
        ),
        row(
            "Always restarts a failure",
            s("Always"),
            vec![("web", exited(1))],
            &["start web #1"],
        ),
        row(
            "OnFailure restarts a failure",
            s("OnFailure"),
            vec![("web", exited(1))],
            &["start web #1"],
        ),
        row(
            "OnFailure leaves a success",
            s("OnFailure"),
            vec![("web", exited(0))],
            &["clear web"],
        ),
        row(
            "Never leaves a failure",
            s("Never"),
            vec![("web", exited(1))],
            &["clear web"],
        ),
        row(
            "Never leaves a success",
            s("Never"),
            vec![("web", exited(0))],
            &["clear web"],
        ),
        row(
            "a running app is left alone",
            s("Always"),
            vec![("web", running())],
            &[],
        ),
        row(
            "a restart keeps the ended instance as lastState",
            s("Always"),
            vec![("web", exited(1).restarts(4))],
            &["start web #5"],
        ),
        row(
            "an instance that never ran is replaced",
            s("Always"),
            vec![("web", exited(1).never_started())],
            &["start web #1 replacing"],
        ),
        row(
            "a single new app starts on its own",
            s("Always"),
            vec![],
            &["start web #0"],
        ),
        row(
            "several new apps start together, others on their own",
            spec(&[], &["a", "b", "c"], "Always"),
            vec![("c", exited(1))],
            &["together a,b", "start c #1"],
        ),
        row(
            "an app whose creation failed lately is not in the batch",
            spec(&[], &["a", "b", "c"], "Always"),
            vec![("c", none().create_failed_at(95))],
            &["together a,b"],
        ),
    ]);
}

#[test]
fn crash_loop_backoff() {
    let s = spec(&[], &["web"], "Always");
    run(vec![
        row(
            "waits out the back-off from the exit",
            s.clone(),
            vec![("web", exited(1).restarts(1).backoff(10))],
            &["backoff web 10s until 105"],
        ),
        at(
            105,
            row(
                "restarts when the back-off ends",
                s.clone(),
                vec![("web", exited(1).restarts(1).backoff(10))],
                &["start web #2"],
            ),
        ),
        row(
            "the back-off is capped at five minutes",
            s.clone(),
            vec![("web", exited(1).restarts(9).backoff(300))],
            &["backoff web 300s until 395"],
        ),
        row(
            "a run of ten minutes resets it",
            s.clone(),
            vec![("web", exited(1).ran(-600, 90).backoff(300))],
            &["start web #1"],
        ),
        at(
            5,
            row(
                "an instance that never ended counts from its creation",
                s.clone(),
                vec![("web", exited(1).never_started().backoff(10))],
                &["backoff web 10s until 10"],
            ),
        ),
    ]);
}

#[test]
fn failed_starts_and_creates() {
    let s = |policy| spec(&[], &["web"], policy);
    run(vec![
        row(
            "a run that failed retries after the back-off",
            s("Always"),
            vec![("web", none().run_failed_at(98, 0).backoff(10))],
            &["backoff web 10s until 108"],
        ),
        row(
            "a first failed run retries at once as a restart",
            s("Always"),
            vec![("web", none().run_failed_at(98, 0))],
            &["start web #1"],
        ),
        row(
            "a failed run whose instance was kept replaces it",
            s("OnFailure"),
            vec![("web", created().restarts(2).run_failed_at(98, 2))],
            &["start web #3 replacing"],
        ),
        row(
            "Never does not retry a failed run",
            s("Never"),
            vec![("web", none().run_failed_at(98, 0))],
            &[],
        ),
        row(
            "a failed create waits its retry period",
            s("Always"),
            vec![("web", none().create_failed_at(95))],
            &[],
        ),
        at(
            105,
            row(
                "and is retried after it",
                s("Always"),
                vec![("web", none().create_failed_at(95))],
                &["start web #0"],
            ),
        ),
        row(
            "an ended container whose create failed waits too",
            s("Always"),
            vec![("web", exited(1).create_failed_at(95))],
            &[],
        ),
        row(
            "a failed restart backs off from the failure, not the exit",
            s("Always"),
            vec![(
                "web",
                exited(1).restarts(1).run_failed_at(99, 2).backoff(10),
            )],
            &["backoff web 10s until 109"],
        ),
    ]);
}

#[test]
fn probes() {
    let s = spec(&[], &["web", "db"], "Always");
    run(vec![
        row(
            "liveness failure kills with the pod's grace",
            s.clone(),
            vec![("web", running().liveness_failed(None)), ("db", running())],
            &["kill web 30s"],
        ),
        row(
            "a probe's own grace wins",
            s.clone(),
            vec![
                ("web", running().liveness_failed(Some(3))),
                ("db", running()),
            ],
            &["kill web 3s"],
        ),
        row(
            "apps are checked one by one",
            s.clone(),
            vec![
                ("web", running().liveness_failed(None)),
                ("db", running().liveness_failed(None)),
            ],
            &["kill web 30s", "kill db 30s"],
        ),
        row(
            "startup probe gating: an unstarted sidecar holds back the apps",
            spec(&["+proxy"], &["web"], "Always"),
            vec![("proxy", running())],
            &[],
        ),
        row(
            "startup probe passed: the apps start",
            spec(&["+proxy"], &["web"], "Always"),
            vec![("proxy", running().started())],
            &["start web #0"],
        ),
    ]);
}

#[test]
fn deadline() {
    let mut s = spec(&[], &["web"], "Always");
    assert!(!deadline_exceeded(&s, Some(t(0)), t(NOW)));
    s.active_deadline_seconds = Some(100);
    assert!(!deadline_exceeded(&s, None, t(NOW)));
    assert!(!deadline_exceeded(&s, Some(t(1)), t(NOW)));
    assert!(deadline_exceeded(&s, Some(t(0)), t(NOW)));
}

#[test]
fn failed_runs_retried() {
    for (role, policy, want) in [
        (Role::App, "Always", true),
        (Role::App, "OnFailure", true),
        (Role::App, "Never", false),
        (Role::Init, "Never", false),
        (Role::Sidecar, "Never", true),
    ] {
        assert_eq!(retries_failed_runs(role, policy), want, "{role:?} {policy}");
    }
}

#[test]
fn deletion_stops_apps_before_sidecars() {
    let s = spec(&["i1", "+log"], &["a", "b"], "Always");
    let names = |g: &Vec<(&Container, Role)>| {
        g.iter()
            .map(|(c, _)| c.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let [first, then] = stop_order(&s);
    assert_eq!(names(&first), "a,b");
    assert_eq!(names(&then), "i1,log");
}
