//! Every root kind, with every field k8s-openapi knows set, must survive
//! protobuf -> JSON -> k8s-openapi type -> JSON unchanged. A wrong JSON name would be
//! dropped by k8s-openapi and a wrong value form would fail to deserialize.

use serde_json::Value;

use crate::generated::samples::root_cases;
use crate::test_support::first_difference;
use crate::{decode, encode_envelope};

fn count_leaves(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.values().map(count_leaves).sum(),
        Value::Array(items) => items.iter().map(count_leaves).sum(),
        _ => 1,
    }
}

#[test]
fn every_root_kind_round_trips_through_k8s_openapi() {
    let cases = root_cases();
    assert!(cases.len() >= 60, "only {} root cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let body = encode_envelope(case.api_version, case.kind, &(case.encoded_sample)());
        let decoded = match decode(&body) {
            Ok(json) => json,
            Err(err) => {
                failures.push(format!(
                    "{} {}: decode failed: {err}",
                    case.api_version, case.kind
                ));
                continue;
            }
        };
        assert_eq!(decoded["apiVersion"], case.api_version);
        assert_eq!(decoded["kind"], case.kind);
        // apiVersion and kind are the two leaves the envelope adds.
        let leaves = count_leaves(&decoded) - 2;
        if leaves != case.expected_leaves {
            failures.push(format!(
                "{} {}: {leaves} JSON leaves, schema says {}",
                case.api_version, case.kind, case.expected_leaves
            ));
        }
        match (case.through_openapi)(decoded.clone()) {
            Ok(again) => {
                if let Some(diff) = first_difference(&decoded, &again, "") {
                    failures.push(format!("{} {}: {diff}", case.api_version, case.kind));
                }
            }
            Err(err) => failures.push(format!(
                "{} {}: k8s-openapi rejected: {err}",
                case.api_version, case.kind
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "round-trip failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn full_pod_sample_fills_the_whole_spec() {
    let case = root_cases()
        .into_iter()
        .find(|c| c.api_version == "v1" && c.kind == "Pod")
        .expect("Pod case");
    let decoded = decode(&encode_envelope("v1", "Pod", &(case.encoded_sample)())).expect("decodes");
    // A sample that silently lost most fields would make the round trip above vacuous.
    assert!(
        count_leaves(&decoded) > 400,
        "only {} leaves",
        count_leaves(&decoded)
    );
    let spec = &decoded["spec"];
    assert_eq!(spec["containers"][0]["ports"][0]["containerPort"], 3);
    assert_eq!(spec["containers"][0]["resources"]["limits"]["key"], "1500m");
    assert_eq!(
        spec["containers"][0]["livenessProbe"]["httpGet"]["port"],
        "25%"
    );
    assert!(
        spec["volumes"][0]["secret"].is_object(),
        "inlined VolumeSource"
    );
    assert_eq!(decoded["status"]["podIPs"][0]["ip"], "ip-sample");
    assert_eq!(decoded["status"]["hostIPs"][0]["ip"], "ip-sample");
    assert_eq!(
        decoded["metadata"]["creationTimestamp"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        decoded["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"],
        serde_json::json!({"f:labels": {}})
    );
}
