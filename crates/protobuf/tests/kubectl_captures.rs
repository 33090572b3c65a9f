//! Bodies captured from the real `kubectl create ...` (v1.32.4) against a recording server,
//! each next to `kubectl create ... --dry-run=client -o json` for the same command: Go's own
//! JSON encoding of the same object. See `gen/capture_kubectl_fixtures.sh`.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Go writes a zero `metav1.Time` as `null`; the decoder omits it, which every reader
/// (k8s-openapi, Go) treats the same.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_captured_kubectl_body_decodes_to_kubectls_own_json() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".pb"))
                .map(String::from)
        })
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "expected the captured fixtures, found {names:?}"
    );
    let mut failures = Vec::new();
    for name in &names {
        let body = std::fs::read(fixtures_dir().join(format!("{name}.pb"))).expect("read .pb");
        let expected_text = std::fs::read_to_string(fixtures_dir().join(format!("{name}.json")))
            .expect("read .json");
        let expected: Value = serde_json::from_str(&expected_text).expect("fixture JSON");
        match peapod_protobuf::decode(&body) {
            Ok(actual) if actual == without_nulls(&expected) => {}
            Ok(actual) => failures.push(format!(
                "{name}:\n  decoded:  {actual}\n  kubectl:  {expected}"
            )),
            Err(err) => failures.push(format!("{name}: {err}")),
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn captured_bodies_parse_into_k8s_openapi_types() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    let read = |name: &str| {
        let body = std::fs::read(fixtures_dir().join(format!("{name}.pb"))).expect("read .pb");
        peapod_protobuf::decode(&body).expect("decodes")
    };
    let deployment: Deployment = serde_json::from_value(read("deployment")).expect("Deployment");
    let spec = deployment.spec.expect("spec");
    assert_eq!(spec.replicas, Some(2));
    let zero: Deployment =
        serde_json::from_value(read("deployment_zero_replicas")).expect("Deployment");
    assert_eq!(
        zero.spec.expect("spec").replicas,
        Some(0),
        "explicit replicas=0 must survive"
    );
    let config_map: ConfigMap = serde_json::from_value(read("configmap")).expect("ConfigMap");
    let binary = std::fs::read(fixtures_dir().join("bin.dat")).expect("bin.dat");
    assert_eq!(config_map.binary_data.expect("binaryData")["bin"].0, binary);
    let secret: Secret = serde_json::from_value(read("secret_generic")).expect("Secret");
    assert_eq!(secret.data.expect("data")["blob"].0, binary);
}
