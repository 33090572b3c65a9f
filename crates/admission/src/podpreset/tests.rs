use serde_json::{json, Value};

use super::*;

fn pod(labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "website", "namespace": "default", "labels": labels},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{
                "name": "website", "image": "nginx",
                "ports": [{"containerPort": 80}],
                "env": [{"name": "MODE", "value": "prod"}],
            }],
        },
    })
}

/// The "allow-database" preset of the old Kubernetes PodPreset task page.
fn allow_database() -> Value {
    json!({
        "apiVersion": "settings.k8s.io/v1alpha1", "kind": "PodPreset",
        "metadata": {"name": "allow-database", "namespace": "default", "resourceVersion": "42"},
        "spec": {
            "selector": {"matchLabels": {"role": "frontend"}},
            "env": [{"name": "DB_PORT", "value": "6379"}],
            "volumeMounts": [{"mountPath": "/cache", "name": "cache-volume"}],
            "volumes": [{"name": "cache-volume", "emptyDir": {}}],
        },
    })
}

fn frontend() -> Value {
    pod(json!({"app": "website", "role": "frontend"}))
}

#[test]
fn matching_preset_is_merged_like_upstream() {
    let mut p = frontend();
    let outcome = apply_pod_presets(&mut p, &[allow_database()]);
    assert_eq!(
        outcome,
        PresetOutcome {
            applied: vec!["allow-database".into()],
            conflicts: vec![]
        }
    );
    assert_eq!(
        p["metadata"]["annotations"],
        json!({"podpreset.admission.kubernetes.io/podpreset-allow-database": "42"})
    );
    assert_eq!(
        p["spec"]["volumes"],
        json!([{"name": "cache-volume", "emptyDir": {}}])
    );
    let container = &p["spec"]["containers"][0];
    assert_eq!(
        container["env"],
        json!([{"name": "MODE", "value": "prod"}, {"name": "DB_PORT", "value": "6379"}])
    );
    assert_eq!(
        container["volumeMounts"],
        json!([{"mountPath": "/cache", "name": "cache-volume"}])
    );
    assert_eq!(
        container["ports"],
        json!([{"containerPort": 80}]),
        "other fields untouched"
    );
}

#[test]
fn init_containers_get_the_preset_too() {
    let mut p = frontend();
    apply_pod_presets(&mut p, &[allow_database()]);
    let init = &p["spec"]["initContainers"][0];
    assert_eq!(init["env"], json!([{"name": "DB_PORT", "value": "6379"}]));
    assert_eq!(init["volumeMounts"][0]["mountPath"], "/cache");
}

#[test]
fn selector_mismatch_leaves_pod_alone() {
    let mut p = pod(json!({"role": "backend"}));
    let before = p.clone();
    let outcome = apply_pod_presets(&mut p, &[allow_database()]);
    assert_eq!(outcome, PresetOutcome::default());
    assert_eq!(p, before);
    // A pod without labels does not match a non-empty selector either.
    let mut unlabeled = pod(Value::Null);
    assert!(apply_pod_presets(&mut unlabeled, &[allow_database()])
        .applied
        .is_empty());
}

#[test]
fn match_expressions_selector() {
    let mut preset = allow_database();
    preset["spec"]["selector"] = json!({"matchExpressions": [
        {"key": "role", "operator": "In", "values": ["frontend", "edge"]},
        {"key": "canary", "operator": "DoesNotExist"}]});
    let mut p = frontend();
    assert_eq!(
        apply_pod_presets(&mut p, std::slice::from_ref(&preset))
            .applied
            .len(),
        1
    );
    let mut canary = pod(json!({"role": "frontend", "canary": "yes"}));
    assert!(apply_pod_presets(&mut canary, &[preset]).applied.is_empty());
}

#[test]
fn empty_selector_matches_every_pod() {
    let mut preset = allow_database();
    preset["spec"]["selector"] = json!({});
    let mut p = pod(json!({"anything": "x"}));
    assert_eq!(
        apply_pod_presets(&mut p, std::slice::from_ref(&preset))
            .applied
            .len(),
        1
    );
    preset["spec"].as_object_mut().map(|s| s.remove("selector"));
    let mut q = pod(Value::Null);
    assert_eq!(apply_pod_presets(&mut q, &[preset]).applied.len(), 1);
}

#[test]
fn exclude_annotation_keeps_pod_untouched() {
    let mut p = frontend();
    p["metadata"]["annotations"] = json!({"podpreset.admission.kubernetes.io/exclude": "true"});
    let before = p.clone();
    assert_eq!(
        apply_pod_presets(&mut p, &[allow_database()]),
        PresetOutcome::default()
    );
    assert_eq!(p, before);
    // Any other value does not exclude.
    p["metadata"]["annotations"] = json!({"podpreset.admission.kubernetes.io/exclude": "false"});
    assert_eq!(
        apply_pod_presets(&mut p, &[allow_database()]).applied.len(),
        1
    );
}

#[test]
fn env_conflict_skips_the_preset_and_reports_it() {
    let mut preset = allow_database();
    preset["spec"]["env"] = json!([{"name": "MODE", "value": "dev"}]);
    let mut p = frontend();
    let before = p.clone();
    let outcome = apply_pod_presets(&mut p, &[preset]);
    assert!(outcome.applied.is_empty());
    assert_eq!(outcome.conflicts.len(), 1);
    assert_eq!(outcome.conflicts[0].0, "allow-database");
    assert!(
        outcome.conflicts[0]
            .1
            .contains("merging env for allow-database has a conflict on MODE"),
        "{:?}",
        outcome.conflicts
    );
    assert_eq!(
        p, before,
        "a conflicting preset changes nothing, not even partly"
    );
}

#[test]
fn identical_env_is_not_a_conflict() {
    let mut preset = allow_database();
    preset["spec"]["env"] = json!([{"name": "MODE", "value": "prod"}]);
    let mut p = frontend();
    assert_eq!(apply_pod_presets(&mut p, &[preset]).applied.len(), 1);
    assert_eq!(
        p["spec"]["containers"][0]["env"],
        json!([{"name": "MODE", "value": "prod"}])
    );
}

#[test]
fn volume_conflict_on_same_name_different_source() {
    let mut p = frontend();
    p["spec"]["volumes"] = json!([{"name": "cache-volume", "hostPath": {"path": "/tmp"}}]);
    let outcome = apply_pod_presets(&mut p, &[allow_database()]);
    assert!(outcome.applied.is_empty());
    assert!(outcome.conflicts[0]
        .1
        .contains("merging volumes for allow-database has a conflict on cache-volume"));
}

#[test]
fn same_volume_with_zero_valued_fields_is_not_a_conflict() {
    let mut p = frontend();
    p["spec"]["volumes"] = json!([{"name": "cache-volume", "emptyDir": {"medium": ""}}]);
    let outcome = apply_pod_presets(&mut p, &[allow_database()]);
    assert_eq!(outcome.applied, vec!["allow-database".to_string()]);
    assert_eq!(p["spec"]["volumes"].as_array().map(Vec::len), Some(1));
}

#[test]
fn mount_path_conflict_with_a_different_volume() {
    let mut p = frontend();
    p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/cache"}]);
    let outcome = apply_pod_presets(&mut p, &[allow_database()]);
    assert!(outcome.applied.is_empty());
    assert!(
        outcome.conflicts[0]
            .1
            .contains("conflict on mount path /cache"),
        "{:?}",
        outcome.conflicts
    );
}

#[test]
fn mount_name_conflict_with_a_different_path() {
    let mut p = frontend();
    p["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "cache-volume", "mountPath": "/elsewhere"}]);
    let outcome = apply_pod_presets(&mut p, &[allow_database()]);
    assert!(outcome.conflicts[0]
        .1
        .contains("volume mounts for allow-database has a conflict on cache-volume"));
}

#[test]
fn only_the_conflicting_preset_is_skipped() {
    let mut second = allow_database();
    second["metadata"]["name"] = json!("bad-mode");
    second["metadata"]["resourceVersion"] = json!("7");
    second["spec"]["env"] = json!([{"name": "MODE", "value": "dev"}]);
    second["spec"]["volumes"] = json!([]);
    second["spec"]["volumeMounts"] = json!([]);
    let mut p = frontend();
    let outcome = apply_pod_presets(&mut p, &[second, allow_database()]);
    assert_eq!(outcome.applied, vec!["allow-database".to_string()]);
    assert_eq!(outcome.conflicts.len(), 1);
    assert_eq!(outcome.conflicts[0].0, "bad-mode");
    let annotations = p["metadata"]["annotations"]
        .as_object()
        .expect("annotations");
    assert!(annotations.contains_key("podpreset.admission.kubernetes.io/podpreset-allow-database"));
    assert!(!annotations.contains_key("podpreset.admission.kubernetes.io/podpreset-bad-mode"));
}

#[test]
fn two_presets_conflicting_with_each_other() {
    let mut first = allow_database();
    first["metadata"]["name"] = json!("a-first");
    let mut second = allow_database();
    second["metadata"]["name"] = json!("b-second");
    second["spec"]["env"] = json!([{"name": "DB_PORT", "value": "5432"}]);
    let mut p = frontend();
    let outcome = apply_pod_presets(&mut p, &[second, first]);
    assert_eq!(outcome.applied, vec!["a-first".to_string()]);
    assert_eq!(outcome.conflicts[0].0, "b-second");
    assert_eq!(p["spec"]["containers"][0]["env"][1]["value"], "6379");
}

#[test]
fn env_from_is_appended_to_every_container() {
    let mut preset = allow_database();
    preset["spec"]["envFrom"] =
        json!([{"configMapRef": {"name": "etcd-env-config"}, "prefix": "ETCD_"}]);
    let mut p = frontend();
    p["spec"]["containers"][0]["envFrom"] = json!([{"secretRef": {"name": "own"}}]);
    apply_pod_presets(&mut p, &[preset]);
    assert_eq!(
        p["spec"]["containers"][0]["envFrom"],
        json!([{"secretRef": {"name": "own"}}, {"configMapRef": {"name": "etcd-env-config"}, "prefix": "ETCD_"}])
    );
    assert_eq!(
        p["spec"]["initContainers"][0]["envFrom"][0]["prefix"],
        "ETCD_"
    );
}

#[test]
fn presets_of_other_namespaces_are_ignored() {
    let mut preset = allow_database();
    preset["metadata"]["namespace"] = json!("elsewhere");
    let mut p = frontend();
    assert_eq!(
        apply_pod_presets(&mut p, &[preset]),
        PresetOutcome::default()
    );
}

#[test]
fn invalid_selector_is_reported_not_fatal() {
    let mut preset = allow_database();
    preset["spec"]["selector"] =
        json!({"matchExpressions": [{"key": "role", "operator": "Bogus"}]});
    let mut p = frontend();
    let outcome = apply_pod_presets(
        &mut p,
        &[preset, {
            let mut other = allow_database();
            other["metadata"]["name"] = json!("z-valid");
            other
        }],
    );
    assert_eq!(outcome.applied, vec!["z-valid".to_string()]);
    assert!(
        outcome.conflicts[0].1.starts_with("invalid selector"),
        "{:?}",
        outcome.conflicts
    );
}

#[test]
fn mirror_pods_are_skipped() {
    let mut p = frontend();
    p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc"});
    assert_eq!(
        apply_pod_presets(&mut p, &[allow_database()]),
        PresetOutcome::default()
    );
}
