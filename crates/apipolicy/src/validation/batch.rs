//! batch/v1: Job and CronJob.

use super::cron::parse_schedule;
use super::errors::{child, Errs, Shown};
use super::metadata::{validate_annotations, validate_labels};
use super::pod_spec::validate_pod_template;
use super::pod_update::normalize;
use super::selector::{go_label_selector, go_string_map, shown_selector, validate_label_selector};
use super::time_zone::check_time_zone;
use crate::json::{at, bool_at, obj_at, str_at};
use peapod_apimachinery::selectors::json_selector_matches;
use serde_json::Value;

pub use crate::defaults::JOB_CONTROLLER_UID as CONTROLLER_UID_LABEL;

/// Validates a JobSpec at `path`; `is_job` is false inside a CronJob's jobTemplate.
fn validate_job_spec(spec: &Value, path: &str, is_job: bool, errs: &mut Errs) {
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        errs.nonnegative(&child(path, f), spec.get(f));
    }
    if let Some(limit) = spec.get("backoffLimitPerIndex").filter(|v| !v.is_null()) {
        errs.nonnegative(&child(path, "backoffLimitPerIndex"), Some(limit));
    }
    let mode_path = child(path, "completionMode");
    errs.enum_value(
        &mode_path,
        spec.get("completionMode"),
        &["Indexed", "NonIndexed"],
        false,
    );
    if str_at(spec, &["completionMode"]) == Some("Indexed")
        && spec.get("completions").is_none_or(Value::is_null)
    {
        errs.required(
            &child(path, "completions"),
            "when completion mode is Indexed",
        );
    }
    errs.enum_value(
        &child(path, "podReplacementPolicy"),
        spec.get("podReplacementPolicy"),
        &["Failed", "TerminatingOrFailed"],
        false,
    );
    let sel_path = child(path, "selector");
    let tpl = spec.get("template").unwrap_or(&Value::Null);
    let tpl_path = child(path, "template");
    match spec.get("selector").filter(|v| !v.is_null()) {
        None if is_job => errs.required(&sel_path, ""),
        None => {}
        Some(sel) => {
            validate_label_selector(sel, &sel_path, errs);
            if !json_selector_matches(sel, obj_at(tpl, &["metadata", "labels"])) {
                errs.invalid(
                    &child(&tpl_path, "metadata.labels"),
                    Shown::Raw(go_string_map(at(tpl, &["metadata", "labels"]))),
                    "`selector` does not match template `labels`",
                );
            }
        }
    }
    if !is_job && bool_at(spec, &["manualSelector"]) == Some(true) {
        errs.not_supported(
            &child(path, "manualSelector"),
            Shown::Bool(true),
            &["nil", "false"],
        );
    }
    validate_pod_template(tpl, &tpl_path, errs);
    let rp_path = child(&tpl_path, "spec.restartPolicy");
    let rp = str_at(tpl, &["spec", "restartPolicy"]).unwrap_or("");
    if rp != "OnFailure" && rp != "Never" {
        errs.not_supported(&rp_path, rp, &["OnFailure", "Never"]);
    }
}

/// Without manualSelector the selector must be exactly the one generated from the uid.
fn validate_generated_selector(job: &Value, errs: &mut Errs) {
    let spec = job.get("spec").unwrap_or(&Value::Null);
    if bool_at(spec, &["manualSelector"]) == Some(true) {
        return;
    }
    let Some(uid) = str_at(job, &["metadata", "uid"]).filter(|u| !u.is_empty()) else {
        return;
    };
    let tpl_labels = obj_at(spec, &["template", "metadata", "labels"]);
    if tpl_labels
        .and_then(|l| l.get(CONTROLLER_UID_LABEL))
        .and_then(Value::as_str)
        != Some(uid)
    {
        errs.invalid(
            "spec.template.metadata.labels",
            Shown::Raw(go_string_map(at(spec, &["template", "metadata", "labels"]))),
            &format!("must be '{CONTROLLER_UID_LABEL}={uid}'"),
        );
    }
    let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) else {
        return;
    };
    let expected = serde_json::json!({"matchLabels": {CONTROLLER_UID_LABEL: uid}});
    if normalize(sel) != expected {
        errs.invalid(
            "spec.selector",
            Shown::Raw(go_label_selector(sel)),
            "`selector` not auto-generated",
        );
    }
}

pub fn validate_job(job: &Value, errs: &mut Errs) {
    validate_job_spec(job.get("spec").unwrap_or(&Value::Null), "spec", true, errs);
    validate_generated_selector(job, errs);
}

pub fn validate_job_update(old: &Value, new: &Value, errs: &mut Errs) {
    let o = |k: &str| at(old, &["spec", k]).map(normalize);
    let n = |k: &str| at(new, &["spec", k]).map(normalize);
    if o("selector") != n("selector") {
        let shown = shown_selector(at(new, &["spec", "selector"]));
        errs.invalid("spec.selector", shown, "field is immutable");
    }
    for f in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex"] {
        if o(f) != n(f) {
            let shown = at(new, &["spec", f])
                .map(Shown::json)
                .unwrap_or(Shown::Str("null".into()));
            errs.invalid(&format!("spec.{f}"), shown, "field is immutable");
        }
    }
    // Indexed jobs may scale completions together with parallelism (elastic indexed jobs).
    let indexed = str_at(new, &["spec", "completionMode"]) == Some("Indexed");
    let elastic = indexed && n("completions") == n("parallelism");
    if o("completions") != n("completions") && !elastic {
        let shown = at(new, &["spec", "completions"])
            .map(Shown::json)
            .unwrap_or(Shown::Str("null".into()));
        errs.invalid("spec.completions", shown, "field is immutable");
    }
    // The pod template may only change while the job is suspended and has not started.
    let suspended = bool_at(old, &["spec", "suspend"]) == Some(true)
        && at(old, &["status", "startTime"]).is_none_or(Value::is_null);
    if o("template") != n("template") && !suspended {
        let shown = at(new, &["spec", "template"])
            .map(|t| t.to_string())
            .unwrap_or("null".into());
        errs.invalid(
            "spec.template",
            Shown::Raw(format!("core.PodTemplateSpec{shown}")),
            "field is immutable",
        );
    }
}

pub fn validate_cron_job(cj: &Value, errs: &mut Errs) {
    if let Some(name) = str_at(cj, &["metadata", "name"]) {
        if name.len() > 52 {
            errs.invalid("metadata.name", name, "must be no more than 52 characters");
        }
    }
    let spec = cj.get("spec").unwrap_or(&Value::Null);
    let tz = spec.get("timeZone").filter(|v| !v.is_null());
    match str_at(spec, &["schedule"]).unwrap_or("") {
        "" => errs.required("spec.schedule", ""),
        sched => {
            if let Err(e) = parse_schedule(sched) {
                errs.invalid("spec.schedule", sched, &e);
            }
            if sched.contains("TZ") {
                let detail = if tz.is_some() {
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule"
                } else {
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
                };
                errs.invalid("spec.schedule", sched, detail);
            }
        }
    }
    if let Some(tz) = tz {
        let s = tz.as_str().unwrap_or("");
        if let Err(e) = check_time_zone(s) {
            errs.invalid("spec.timeZone", s, &e);
        }
    }
    errs.enum_value(
        "spec.concurrencyPolicy",
        spec.get("concurrencyPolicy"),
        &["Allow", "Forbid", "Replace"],
        true,
    );
    for f in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        errs.nonnegative(&format!("spec.{f}"), spec.get(f));
    }
    let jt = spec.get("jobTemplate").unwrap_or(&Value::Null);
    let meta = jt.get("metadata");
    validate_labels(
        meta.and_then(|m| m.get("labels")),
        "spec.jobTemplate.metadata.labels",
        errs,
    );
    validate_annotations(
        meta.and_then(|m| m.get("annotations")),
        "spec.jobTemplate.metadata.annotations",
        errs,
    );
    validate_job_spec(
        jt.get("spec").unwrap_or(&Value::Null),
        "spec.jobTemplate.spec",
        false,
        errs,
    );
}
