use serde_json::json;

use super::{json_patch, merge_patch};

#[test]
fn json_patch_applies_operations() {
    let doc =
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 1, "list": [1, 2]}});
    let patch = json!([
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        {"op": "remove", "path": "/metadata/labels/app"},
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "move", "from": "/spec/list", "path": "/spec/items"}
    ]);
    let result = json_patch(&doc, &patch).expect("valid patch");
    assert_eq!(
        result,
        json!({"metadata": {"labels": {"tier": "front"}}, "spec": {"replicas": 3, "items": [1, 2, 3]}})
    );
}

#[test]
fn json_patch_errors_carry_status() {
    let doc = json!({"spec": {"replicas": 1}});
    let failed_test = json_patch(
        &doc,
        &json!([{"op": "test", "path": "/spec/replicas", "value": 2}]),
    );
    assert_eq!(failed_test.map_err(|e| e.status_code()), Err(422));
    let missing = json_patch(&doc, &json!([{"op": "remove", "path": "/spec/nope"}]));
    assert_eq!(missing.map_err(|e| e.status_code()), Err(422));
    let malformed = json_patch(&doc, &json!({"op": "add"}));
    assert_eq!(malformed.map_err(|e| e.status_code()), Err(400));
    let unknown_op = json_patch(&doc, &json!([{"op": "frobnicate", "path": "/a"}]));
    assert_eq!(unknown_op.map_err(|e| e.status_code()), Err(400));
}

#[test]
fn merge_patch_follows_rfc_7386() {
    let doc = json!({"a": {"b": 1, "c": 2}, "list": [1, 2], "gone": true});
    let patch = json!({"a": {"b": null, "d": {"e": 1}}, "list": [3], "gone": null});
    assert_eq!(
        merge_patch(&doc, &patch),
        json!({"a": {"c": 2, "d": {"e": 1}}, "list": [3]})
    );
    // A non-object patch replaces the whole document.
    assert_eq!(merge_patch(&doc, &json!("x")), json!("x"));
}
