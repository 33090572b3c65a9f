use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret, Volume};
use k8s_openapi::ByteString;
use serde_json::json;

use super::*;

fn volume(value: serde_json::Value) -> Volume {
    serde_json::from_value(value).expect("volume JSON")
}

fn config_map(data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        binary_data: Some(BTreeMap::from([(
            "bin".to_string(),
            ByteString(vec![0, 1, 2]),
        )])),
        ..Default::default()
    }
}

fn text(payload: &Payload, path: &str) -> String {
    String::from_utf8(payload[path].data.clone()).unwrap()
}

#[test]
fn config_map_items_and_modes() {
    let mut inputs = Inputs::default();
    inputs.config_maps.insert(
        "cfg".into(),
        Lookup::Found(config_map(&[("a", "1"), ("b", "2")])),
    );
    let v = volume(
        json!({"name": "v", "configMap": {"name": "cfg", "defaultMode": 0o600,
        "items": [{"key": "a", "path": "dir/a.txt"}, {"key": "b", "path": "b", "mode": 0o755}]}}),
    );
    let p = build(&v, &json!({}), &inputs).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(text(&p, "dir/a.txt"), "1");
    assert_eq!(p["dir/a.txt"].mode, 0o600);
    assert_eq!(p["b"].mode, 0o755);

    let all = volume(json!({"name": "v", "configMap": {"name": "cfg"}}));
    let p = build(&all, &json!({}), &inputs).unwrap();
    assert_eq!(p.keys().collect::<Vec<_>>(), ["a", "b", "bin"]);
    assert_eq!(p["bin"].data, vec![0, 1, 2]);
    assert_eq!(p["a"].mode, 0o644);
}

#[test]
fn missing_objects_and_keys() {
    let inputs = Inputs::default();
    let v = volume(json!({"name": "v", "configMap": {"name": "x"}}));
    assert_eq!(
        build(&v, &json!({}), &inputs).unwrap_err(),
        r#"configmap "x" not found"#
    );
    let v = volume(json!({"name": "v", "secret": {"secretName": "s"}}));
    assert_eq!(
        build(&v, &json!({}), &inputs).unwrap_err(),
        r#"secret "s" not found"#
    );
    let v = volume(json!({"name": "v", "secret": {"secretName": "s", "optional": true}}));
    assert!(build(&v, &json!({}), &inputs).unwrap().is_empty());

    let mut inputs = Inputs::default();
    inputs
        .config_maps
        .insert("cfg".into(), Lookup::Found(config_map(&[("a", "1")])));
    let v = volume(
        json!({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "zz", "path": "zz"}]}}),
    );
    assert_eq!(
        build(&v, &json!({}), &inputs).unwrap_err(),
        "configmap references non-existent config key: zz"
    );
    let v = volume(
        json!({"name": "v", "configMap": {"name": "cfg", "optional": true,
        "items": [{"key": "zz", "path": "zz"}, {"key": "a", "path": "a"}]}}),
    );
    assert_eq!(build(&v, &json!({}), &inputs).unwrap().len(), 1);
    inputs
        .config_maps
        .insert("cfg".into(), Lookup::Failed("forbidden".into()));
    let v = volume(json!({"name": "v", "configMap": {"name": "cfg", "optional": true}}));
    assert_eq!(build(&v, &json!({}), &inputs).unwrap_err(), "forbidden");
}

#[test]
fn secret_data_is_decoded_bytes() {
    let mut inputs = Inputs::default();
    let secret: Secret = serde_json::from_value(json!({"data": {"password": "MTIzNDU2"}})).unwrap();
    inputs.secrets.insert("s".into(), Lookup::Found(secret));
    let v = volume(json!({"name": "v", "secret": {"secretName": "s"}}));
    let p = build(&v, &json!({}), &inputs).unwrap();
    assert_eq!(text(&p, "password"), "123456");
}

#[test]
fn bad_modes_and_paths_are_errors() {
    let mut inputs = Inputs::default();
    inputs
        .config_maps
        .insert("cfg".into(), Lookup::Found(config_map(&[("a", "1")])));
    let v = volume(json!({"name": "v", "configMap": {"name": "cfg", "defaultMode": 0o1777}}));
    assert!(build(&v, &json!({}), &inputs)
        .unwrap_err()
        .contains("invalid file mode"));
    let v = volume(
        json!({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "../a"}]}}),
    );
    assert!(build(&v, &json!({}), &inputs).unwrap_err().contains("'..'"));
}

#[test]
fn downward_api_fields() {
    let pod = json!({"metadata": {"name": "p", "namespace": "ns", "labels": {"b": "2", "a": "x\"y"}},
        "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "64Mi"}}}]}});
    let v = volume(json!({"name": "v", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o400},
        {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory", "divisor": "1Mi"}}
    ]}}));
    assert_eq!(references(&v), vec![Reference::Node]);
    let p = build(&v, &pod, &Inputs::default()).unwrap();
    assert_eq!(text(&p, "labels"), "a=\"x\\\"y\"\nb=\"2\"");
    assert_eq!(text(&p, "name"), "p");
    assert_eq!(p["name"].mode, 0o400);
    assert_eq!(text(&p, "mem"), "64");
    let bad = volume(json!({"name": "v", "downwardAPI": {"items": [
        {"path": "x", "fieldRef": {"fieldPath": "spec.bogus"}}]}}));
    assert!(build(&bad, &pod, &Inputs::default()).is_err());
}

#[test]
fn projected_sources_merge_and_errors_aggregate() {
    let pod = json!({"metadata": {"name": "p", "namespace": "ns"}});
    let v = volume(
        json!({"name": "kube-api-access", "projected": {"defaultMode": 0o644, "sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}
        ]}}),
    );
    assert_eq!(
        references(&v),
        vec![
            Reference::Token {
                index: 0,
                audience: None,
                expiration_seconds: 3607
            },
            Reference::ConfigMap("kube-root-ca.crt".into()),
        ]
    );
    let mut inputs = Inputs::default();
    inputs.tokens.insert(0, Ok("tok".into()));
    inputs.config_maps.insert(
        "kube-root-ca.crt".into(),
        Lookup::Found(config_map(&[("ca.crt", "PEM")])),
    );
    let p = build(&v, &pod, &inputs).unwrap();
    assert_eq!(text(&p, "token"), "tok");
    assert_eq!(p["token"].mode, 0o644);
    assert_eq!(text(&p, "ca.crt"), "PEM");
    assert_eq!(text(&p, "namespace"), "ns");

    let mut failing = Inputs::default();
    failing
        .tokens
        .insert(0, Err("serviceaccounts \"default\" not found".into()));
    let err = build(&v, &pod, &failing).unwrap_err();
    assert_eq!(
        err,
        "[failed to fetch token: serviceaccounts \"default\" not found, configmap \"kube-root-ca.crt\" not found]"
    );
}
