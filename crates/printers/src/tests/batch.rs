use super::{ago, cell, text};
use peapod_apimachinery::gvk::kinds::{CRON_JOB, JOB};
use serde_json::{json, Value};

fn job(spec: Value, status: Value) -> Value {
    let mut spec = spec;
    spec["template"] = json!({"spec": {"containers": [{"name": "pi", "image": "perl"}]}});
    json!({"metadata": {"name": "pi", "creationTimestamp": ago(600)}, "spec": spec, "status": status})
}

fn with_condition(type_: &str, status: &str) -> Value {
    json!({"conditions": [{"type": type_, "status": status}]})
}

#[test]
fn job_status_from_conditions() {
    let cases = [
        ("Complete", "Complete"),
        ("Failed", "Failed"),
        ("Suspended", "Suspended"),
        ("FailureTarget", "FailureTarget"),
        ("SuccessCriteriaMet", "SuccessCriteriaMet"),
    ];
    for (condition, want) in cases {
        assert_eq!(
            text(
                JOB,
                &job(json!({}), with_condition(condition, "True")),
                "Status"
            ),
            want
        );
    }
    assert_eq!(
        text(
            JOB,
            &job(json!({}), with_condition("Complete", "False")),
            "Status"
        ),
        "Running"
    );
    assert_eq!(text(JOB, &job(json!({}), json!({})), "Status"), "Running");
}

#[test]
fn job_terminating_unless_finished() {
    let mut j = job(json!({}), with_condition("Suspended", "True"));
    j["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(text(JOB, &j, "Status"), "Terminating");
    let mut done = job(json!({}), with_condition("Complete", "True"));
    done["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(text(JOB, &done, "Status"), "Complete");
}

#[test]
fn job_completions() {
    assert_eq!(
        text(
            JOB,
            &job(json!({"completions": 3}), json!({"succeeded": 1})),
            "Completions"
        ),
        "1/3"
    );
    assert_eq!(text(JOB, &job(json!({}), json!({})), "Completions"), "0/1");
    assert_eq!(
        text(
            JOB,
            &job(json!({"parallelism": 1}), json!({"succeeded": 1})),
            "Completions"
        ),
        "1/1"
    );
    assert_eq!(
        text(
            JOB,
            &job(json!({"parallelism": 3}), json!({"succeeded": 2})),
            "Completions"
        ),
        "2/1 of 3"
    );
}

#[test]
fn job_duration() {
    assert_eq!(text(JOB, &job(json!({}), json!({})), "Duration"), "");
    assert_eq!(
        text(
            JOB,
            &job(json!({}), json!({"startTime": ago(45)})),
            "Duration"
        ),
        "45s"
    );
    let finished = job(
        json!({}),
        json!({"startTime": ago(500), "completionTime": ago(300)}),
    );
    assert_eq!(text(JOB, &finished, "Duration"), "3m20s");
    assert_eq!(text(JOB, &finished, "Age"), "10m");
}

#[test]
fn job_wide_cells() {
    let j = job(
        json!({"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}}}),
        json!({}),
    );
    assert_eq!(text(JOB, &j, "Containers"), "pi");
    assert_eq!(text(JOB, &j, "Images"), "perl");
    assert_eq!(
        text(JOB, &j, "Selector"),
        "batch.kubernetes.io/controller-uid=abc"
    );
}

#[test]
fn cron_job_row() {
    let cj = json!({
        "metadata": {"name": "hourly", "creationTimestamp": ago(7200)},
        "spec": {
            "schedule": "0 * * * *",
            "suspend": false,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
        },
        "status": {"active": [{"name": "hourly-1"}, {"name": "hourly-2"}], "lastScheduleTime": ago(1800)},
    });
    assert_eq!(text(CRON_JOB, &cj, "Schedule"), "0 * * * *");
    assert_eq!(text(CRON_JOB, &cj, "Timezone"), "<none>");
    assert_eq!(text(CRON_JOB, &cj, "Suspend"), "False");
    assert_eq!(cell(CRON_JOB, &cj, "Active"), json!(2));
    assert_eq!(text(CRON_JOB, &cj, "Last Schedule"), "30m");
    assert_eq!(text(CRON_JOB, &cj, "Age"), "120m");
    assert_eq!(text(CRON_JOB, &cj, "Containers"), "c");
    assert_eq!(text(CRON_JOB, &cj, "Selector"), "<none>");
}

#[test]
fn cron_job_defaults() {
    let cj = json!({"metadata": {"name": "x"}, "spec": {"schedule": "@daily", "timeZone": "Etc/UTC", "suspend": true}});
    assert_eq!(text(CRON_JOB, &cj, "Timezone"), "Etc/UTC");
    assert_eq!(text(CRON_JOB, &cj, "Suspend"), "True");
    assert_eq!(cell(CRON_JOB, &cj, "Active"), json!(0));
    assert_eq!(text(CRON_JOB, &cj, "Last Schedule"), "<none>");
    let unset = json!({"metadata": {"name": "x"}, "spec": {}});
    assert_eq!(text(CRON_JOB, &unset, "Suspend"), "<unset>");
}
