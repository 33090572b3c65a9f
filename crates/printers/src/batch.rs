//! batch/v1 rows: Job and CronJob.

use crate::access::{at, has, int_at, len_at, list_at, name, str_at, time_at};
use crate::column::{col, Column, AGE, CONTAINERS, IMAGES, NAME, SELECTOR};
use crate::containers::names_and_images;
use crate::duration::{human_duration, since};
use crate::selectors::format_label_selector;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub(crate) fn job_columns() -> Vec<Column> {
    vec![
        NAME,
        col("Status", "string", "Status of the job."),
        col(
            "Completions",
            "string",
            "Succeeded pods out of the desired completions.",
        ),
        col(
            "Duration",
            "string",
            "Time the job took to complete, or has been running.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ]
}

pub(crate) fn job_cells(job: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = names_and_images(at(job, &["spec", "template", "spec"]));
    vec![
        json!(name(job)),
        json!(job_status(job)),
        json!(completions(job)),
        json!(job_duration(job, now)),
        json!(since(time_at(job, &["metadata", "creationTimestamp"]), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(at(job, &["spec", "selector"]))),
    ]
}

/// Terminal conditions first, then deletion, then the transient conditions.
fn job_status(job: &Value) -> &'static str {
    let conditions = list_at(job, &["status", "conditions"]);
    // The first condition of a type decides it, as in Kubernetes.
    let is = |type_: &str| {
        conditions
            .iter()
            .find(|c| str_at(c, &["type"]) == type_)
            .is_some_and(|c| str_at(c, &["status"]) == "True")
    };
    if is("Complete") {
        "Complete"
    } else if is("Failed") {
        "Failed"
    } else if has(job, &["metadata", "deletionTimestamp"]) {
        "Terminating"
    } else if is("Suspended") {
        "Suspended"
    } else if is("FailureTarget") {
        "FailureTarget"
    } else if is("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

/// "succeeded/completions"; without completions a job needs one success,
/// shown as "n/1 of p" when it runs p > 1 pods in parallel.
fn completions(job: &Value) -> String {
    let succeeded = int_at(job, &["status", "succeeded"]);
    if has(job, &["spec", "completions"]) {
        return format!("{succeeded}/{}", int_at(job, &["spec", "completions"]));
    }
    match int_at(job, &["spec", "parallelism"]) {
        p if p > 1 => format!("{succeeded}/1 of {p}"),
        _ => format!("{succeeded}/1"),
    }
}

/// Empty before the job starts; time running so far, or start-to-completion.
fn job_duration(job: &Value, now: DateTime<Utc>) -> String {
    let Some(start) = time_at(job, &["status", "startTime"]) else {
        return String::new();
    };
    match time_at(job, &["status", "completionTime"]) {
        Some(done) => human_duration(done - start),
        None => human_duration(now - start),
    }
}

pub(crate) fn cron_job_columns() -> Vec<Column> {
    vec![
        NAME,
        col("Schedule", "string", "The schedule in Cron format."),
        col(
            "Timezone",
            "string",
            "The time zone the schedule is interpreted in.",
        ),
        col("Suspend", "boolean", "Whether later runs are suspended."),
        col("Active", "integer", "Number of currently running jobs."),
        col("Last Schedule", "string", "When a job was last scheduled."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ]
}

pub(crate) fn cron_job_cells(cj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let job_spec = at(cj, &["spec", "jobTemplate", "spec"]);
    let (names, images) = names_and_images(job_spec.and_then(|s| at(s, &["template", "spec"])));
    let time_zone = at(cj, &["spec", "timeZone"])
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let suspend = match at(cj, &["spec", "suspend"]).and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let last_schedule = match time_at(cj, &["status", "lastScheduleTime"]) {
        Some(t) => since(Some(t), now),
        None => "<none>".to_string(),
    };
    vec![
        json!(name(cj)),
        json!(str_at(cj, &["spec", "schedule"])),
        json!(time_zone),
        json!(suspend),
        json!(len_at(cj, &["status", "active"])),
        json!(last_schedule),
        json!(since(time_at(cj, &["metadata", "creationTimestamp"]), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(
            job_spec.and_then(|s| at(s, &["selector"]))
        )),
    ]
}
