//! apps/v1 workloads: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision.

use super::errors::{child, Errs, Shown};
use super::pod_spec::validate_pod_template;
use super::selector::{
    go_label_selector, go_string_map, selector_is_empty, shown_selector, validate_label_selector,
};
use crate::json::{at, i64_at, obj_at, str_at};
use peapod_apimachinery::selectors::json_selector_matches;
use serde_json::Value;

/// Selector present, non-empty, valid, and matching a template whose restartPolicy is Always.
fn validate_selector_and_template(spec: &Value, kind_word: &str, errs: &mut Errs) {
    match spec.get("selector").filter(|v| !v.is_null()) {
        None => errs.required("spec.selector", ""),
        Some(sel) => {
            validate_label_selector(sel, "spec.selector", errs);
            if selector_is_empty(sel) {
                errs.invalid(
                    "spec.selector",
                    Shown::Raw(go_label_selector(sel)),
                    &format!("empty selector is invalid for {kind_word}"),
                );
            }
        }
    }
    let tpl = spec.get("template").unwrap_or(&Value::Null);
    if let Some(sel) = spec
        .get("selector")
        .filter(|s| !s.is_null() && !selector_is_empty(s))
    {
        validate_template_selected(tpl, sel, errs);
    }
    validate_replica_template(tpl, kind_word, errs);
}

/// The template's labels must satisfy the (non-empty) label selector `sel`, or the workload
/// would create pods it does not own.
pub(super) fn validate_template_selected(tpl: &Value, sel: &Value, errs: &mut Errs) {
    let labels = obj_at(tpl, &["metadata", "labels"]);
    if !json_selector_matches(sel, labels) {
        errs.invalid(
            "spec.template.metadata.labels",
            Shown::Raw(go_string_map(at(tpl, &["metadata", "labels"]))),
            "`selector` does not match template `labels`",
        );
    }
}

/// A pod template replicated by a controller: a valid template whose pods always restart and
/// never time out (the controller, not the pod, decides when they end).
pub(super) fn validate_replica_template(tpl: &Value, kind_word: &str, errs: &mut Errs) {
    validate_pod_template(tpl, "spec.template", errs);
    if let Some(rp) = str_at(tpl, &["spec", "restartPolicy"]) {
        if rp != "Always" {
            errs.not_supported("spec.template.spec.restartPolicy", rp, &["Always"]);
        }
    }
    if let Some(ads) = i64_at(tpl, &["spec", "activeDeadlineSeconds"]) {
        errs.invalid(
            "spec.template.spec.activeDeadlineSeconds",
            ads,
            &format!("activeDeadlineSeconds in {kind_word} is not Supported"),
        );
    }
}

fn spec_of(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

/// An int, or a percentage string like "25%".
fn validate_int_or_percent(v: Option<&Value>, path: &str, errs: &mut Errs) -> Option<(i64, bool)> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let digits = s
                .strip_suffix('%')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            match digits.and_then(|d| d.parse::<i64>().ok()) {
                None => {
                    errs.invalid(path, s.as_str(), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
                    None
                }
                Some(p) => {
                    if p > 100 {
                        errs.invalid(path, s.as_str(), "must not be greater than 100%");
                    }
                    Some((p, true))
                }
            }
        }
        Some(n) => match n.as_i64() {
            Some(i) if i < 0 => {
                errs.invalid(path, i, "must be greater than or equal to 0");
                None
            }
            Some(i) => Some((i, false)),
            None => {
                errs.type_invalid(
                    path,
                    Shown::json(n),
                    "must be an integer or percentage (e.g '5%')",
                );
                None
            }
        },
    }
}

fn validate_rolling_update(ru: &Value, path: &str, errs: &mut Errs) {
    let mu_path = child(path, "maxUnavailable");
    let mu = validate_int_or_percent(ru.get("maxUnavailable"), &mu_path, errs);
    let ms = validate_int_or_percent(ru.get("maxSurge"), &child(path, "maxSurge"), errs);
    if mu.is_some_and(|(v, _)| v == 0) && ms.is_some_and(|(v, _)| v == 0) {
        let shown = ru
            .get("maxUnavailable")
            .map(Shown::json)
            .unwrap_or(Shown::Int(0));
        errs.invalid(&mu_path, shown, "may not be 0 when `maxSurge` is 0");
    }
}

pub fn validate_deployment(obj: &Value, errs: &mut Errs) {
    let spec = spec_of(obj);
    errs.nonnegative("spec.replicas", spec.get("replicas"));
    validate_selector_and_template(spec, "deployment", errs);
    let strategy = spec.get("strategy").unwrap_or(&Value::Null);
    match str_at(strategy, &["type"]).unwrap_or("") {
        "Recreate" => {
            if strategy.get("rollingUpdate").is_some_and(|v| !v.is_null()) {
                errs.forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
        }
        "RollingUpdate" => match strategy.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => errs.required(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            ),
            Some(ru) => validate_rolling_update(ru, "spec.strategy.rollingUpdate", errs),
        },
        other => errs.not_supported("spec.strategy.type", other, &["Recreate", "RollingUpdate"]),
    }
    errs.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"));
    errs.nonnegative(
        "spec.revisionHistoryLimit",
        spec.get("revisionHistoryLimit"),
    );
    errs.nonnegative(
        "spec.progressDeadlineSeconds",
        spec.get("progressDeadlineSeconds"),
    );
    if let Some(pds) = i64_at(spec, &["progressDeadlineSeconds"]) {
        if pds <= i64_at(spec, &["minReadySeconds"]).unwrap_or(0) {
            errs.invalid(
                "spec.progressDeadlineSeconds",
                pds,
                "must be greater than minReadySeconds",
            );
        }
    }
}

pub fn validate_replica_set(obj: &Value, errs: &mut Errs) {
    let spec = spec_of(obj);
    errs.nonnegative("spec.replicas", spec.get("replicas"));
    errs.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"));
    validate_selector_and_template(spec, "replicaset", errs);
}

pub fn validate_daemon_set(obj: &Value, errs: &mut Errs) {
    let spec = spec_of(obj);
    validate_selector_and_template(spec, "daemonset", errs);
    errs.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"));
    errs.nonnegative(
        "spec.revisionHistoryLimit",
        spec.get("revisionHistoryLimit"),
    );
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match str_at(strategy, &["type"]).unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => match strategy.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => errs.required("spec.updateStrategy.rollingUpdate", ""),
            Some(ru) => validate_rolling_update(ru, "spec.updateStrategy.rollingUpdate", errs),
        },
        other => errs.not_supported(
            "spec.updateStrategy.type",
            other,
            &["OnDelete", "RollingUpdate"],
        ),
    }
}

pub fn validate_stateful_set(obj: &Value, errs: &mut Errs) {
    let spec = spec_of(obj);
    errs.nonnegative("spec.replicas", spec.get("replicas"));
    errs.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"));
    errs.nonnegative(
        "spec.revisionHistoryLimit",
        spec.get("revisionHistoryLimit"),
    );
    errs.enum_value(
        "spec.podManagementPolicy",
        spec.get("podManagementPolicy"),
        &["OrderedReady", "Parallel"],
        true,
    );
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match str_at(strategy, &["type"]).unwrap_or("") {
        "OnDelete" => {
            if strategy.get("rollingUpdate").is_some_and(|v| !v.is_null()) {
                errs.invalid(
                    "spec.updateStrategy.rollingUpdate",
                    Shown::Raw(strategy["rollingUpdate"].to_string()),
                    "only allowed for updateStrategy 'RollingUpdate'",
                );
            }
        }
        "RollingUpdate" => {
            errs.nonnegative(
                "spec.updateStrategy.rollingUpdate.partition",
                at(strategy, &["rollingUpdate", "partition"]),
            );
        }
        "" => errs.required("spec.updateStrategy", ""),
        other => errs.not_supported(
            "spec.updateStrategy.type",
            other,
            &["OnDelete", "RollingUpdate"],
        ),
    }
    if let Some(policy) = spec
        .get("persistentVolumeClaimRetentionPolicy")
        .filter(|v| !v.is_null())
    {
        for f in ["whenDeleted", "whenScaled"] {
            errs.enum_value(
                &format!("spec.persistentVolumeClaimRetentionPolicy.{f}"),
                policy.get(f),
                &["Delete", "Retain"],
                false,
            );
        }
    }
    errs.nonnegative("spec.ordinals.start", at(spec, &["ordinals", "start"]));
    if let Some(name) = str_at(spec, &["serviceName"]).filter(|s| !s.is_empty()) {
        errs.invalid_each("spec.serviceName", name, super::names::dns1123_label(name));
    }
    validate_selector_and_template(spec, "statefulset", errs);
    if spec
        .get("volumeClaimTemplates")
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty())
    {
        errs.forbidden(
            "spec.volumeClaimTemplates",
            "volumeClaimTemplates are not supported by this server (it has no persistent volume provisioning); use volumes in the pod template instead",
        );
    }
}

/// The label selector of an apps/v1 workload can never change.
pub fn validate_selector_immutable(old: &Value, new: &Value, errs: &mut Errs) {
    let o = at(old, &["spec", "selector"]).map(super::pod_update::normalize);
    let n = at(new, &["spec", "selector"]).map(super::pod_update::normalize);
    if o != n {
        let shown = shown_selector(at(new, &["spec", "selector"]));
        errs.invalid("spec.selector", shown, "field is immutable");
    }
}

/// StatefulSet updates may only touch a few spec fields.
pub fn validate_stateful_set_update(old: &Value, new: &Value, errs: &mut Errs) {
    const MUTABLE: &[&str] = &[
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    ];
    let strip = |v: &Value| {
        let mut s = super::pod_update::normalize(v.get("spec").unwrap_or(&Value::Null));
        if let Some(m) = s.as_object_mut() {
            for f in MUTABLE {
                m.remove(*f);
            }
        }
        s
    };
    if strip(old) != strip(new) {
        errs.forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        );
    }
}

pub fn validate_controller_revision(obj: &Value, errs: &mut Errs) {
    errs.nonnegative("revision", obj.get("revision"));
    if obj.get("data").is_none_or(Value::is_null) {
        errs.required("data", "data is mandatory");
    }
}

pub fn validate_controller_revision_update(old: &Value, new: &Value, errs: &mut Errs) {
    if old.get("data") != new.get("data") {
        errs.invalid(
            "data",
            Shown::Raw("runtime.RawExtension{...}".into()),
            "field is immutable",
        );
    }
}
