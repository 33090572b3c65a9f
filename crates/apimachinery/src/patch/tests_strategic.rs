//! Table-driven strategic merge patch cases. Orders and results follow Kubernetes' behaviour
//! (including where it places elements the patch adds without `$setElementOrder`).

use serde_json::{json, Value};

use super::{strategic_merge_patch, PatchError};
use crate::gvk::{kinds, Gvk};

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a.example/x", "b.example/y"]},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "nginx:1.25",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                },
                {"name": "sidecar", "image": "busybox"}
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "tolerations": [{"key": "k", "operator": "Exists"}]
        }
    })
}

/// The pod with `edit` applied to a copy (keeps expectations short).
fn pod_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut p = pod();
    edit(&mut p);
    p
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]}]}
            }
        },
        "status": {"conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}]}
    })
}

struct Case {
    name: &'static str,
    gvk: Gvk,
    original: Value,
    patch: Value,
    expected: Value,
}

fn case(name: &'static str, gvk: Gvk, original: Value, patch: Value, expected: Value) -> Case {
    Case {
        name,
        gvk,
        original,
        patch,
        expected,
    }
}

fn cases() -> Vec<Case> {
    use kinds::*;
    let c = |p: &mut Value, i: usize| p["spec"]["containers"][i].take();
    vec![
        case(
            "map keys merge",
            POD,
            json!({"metadata": {"labels": {"app": "web"}}}),
            json!({"metadata": {"labels": {"tier": "front"}}}),
            json!({"metadata": {"labels": {"app": "web", "tier": "front"}}}),
        ),
        case(
            "null deletes a key",
            POD,
            json!({"metadata": {"labels": {"app": "web", "x": "y"}}}),
            json!({"metadata": {"labels": {"x": null}}}),
            json!({"metadata": {"labels": {"app": "web"}}}),
        ),
        case(
            "null for a missing key is dropped",
            POD,
            json!({"metadata": {}}),
            json!({"metadata": {"annotations": null, "labels": {"a": "b", "c": null}}}),
            json!({"metadata": {"labels": {"a": "b"}}}),
        ),
        case(
            "scalar replaces",
            POD,
            json!({"spec": {"restartPolicy": "Always"}}),
            json!({"spec": {"restartPolicy": "Never"}}),
            json!({"spec": {"restartPolicy": "Never"}}),
        ),
        case(
            "type change replaces",
            POD,
            json!({"spec": {"x": "s"}}),
            json!({"spec": {"x": {"a": 1, "b": null}}}),
            json!({"spec": {"x": {"a": 1}}}),
        ),
        case(
            "kubectl apply body updates one of two containers",
            POD,
            pod(),
            json!({
                "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
                "spec": {
                    "$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
                    "containers": [{"image": "nginx:1.27", "name": "main"}]
                }
            }),
            pod_with(|p| {
                p["metadata"]["annotations"] =
                    json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"});
                p["spec"]["containers"][0]["image"] = json!("nginx:1.27");
            }),
        ),
        case(
            "container merge keeps untouched fields",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "sidecar", "args": ["sleep", "1"]}]}}),
            pod_with(|p| p["spec"]["containers"][1]["args"] = json!(["sleep", "1"])),
        ),
        case(
            "new container without order goes before server-only ones",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "log", "image": "fluent"}]}}),
            pod_with(|p| {
                let (main, sidecar) = (c(p, 0), c(p, 1));
                p["spec"]["containers"] =
                    json!([{"name": "log", "image": "fluent"}, main, sidecar]);
            }),
        ),
        case(
            "new container placed by $setElementOrder",
            POD,
            pod(),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "main"}, {"name": "log"}, {"name": "sidecar"}],
                "containers": [{"name": "log", "image": "fluent"}]
            }}),
            pod_with(|p| {
                let (main, sidecar) = (c(p, 0), c(p, 1));
                p["spec"]["containers"] =
                    json!([main, {"name": "log", "image": "fluent"}, sidecar]);
            }),
        ),
        case(
            "$setElementOrder alone reorders",
            POD,
            pod(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "main"}]}}),
            pod_with(|p| {
                let (main, sidecar) = (c(p, 0), c(p, 1));
                p["spec"]["containers"] = json!([sidecar, main]);
            }),
        ),
        case(
            "$setElementOrder interleaves server-only elements",
            POD,
            json!({"status": {"conditions": [
                {"type": "A", "x": 1}, {"type": "B"}, {"type": "S"}, {"type": "C"}, {"type": "D"}]}}),
            json!({"status": {"$setElementOrder/conditions": [{"type": "B"}, {"type": "A"}, {"type": "D"}, {"type": "C"}]}}),
            json!({"status": {"conditions": [
                {"type": "B"}, {"type": "A", "x": 1}, {"type": "S"}, {"type": "D"}, {"type": "C"}]}}),
        ),
        case(
            "env var updated and added",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}),
            pod_with(|p| {
                p["spec"]["containers"][0]["env"] = json!([
                {"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}])
            }),
        ),
        case(
            "env var removed with $patch: delete",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "env": [{"name": "A", "$patch": "delete"}]}]}}),
            pod_with(|p| p["spec"]["containers"][0]["env"] = json!([{"name": "B", "value": "2"}])),
        ),
        case(
            "deleting a missing element is a no-op",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "ghost", "$patch": "delete"}]}}),
            pod(),
        ),
        case(
            "kubectl apply env removal body",
            POD,
            pod(),
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
                "containers": [{
                    "$setElementOrder/env": [{"name": "B"}],
                    "env": [{"$patch": "delete", "name": "A"}],
                    "name": "main"
                }]
            }}),
            pod_with(|p| p["spec"]["containers"][0]["env"] = json!([{"name": "B", "value": "2"}])),
        ),
        case(
            "null field inside a merged element is deleted",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": null}]}]}}),
            pod_with(|p| p["spec"]["containers"][0]["env"][0] = json!({"name": "A"})),
        ),
        case(
            "null fields of a new element are dropped",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "env": [{"name": "Z", "value": null, "valueFrom": {"x": null}}]}]}}),
            pod_with(|p| {
                p["spec"]["containers"][0]["env"] = json!([
                {"name": "Z", "valueFrom": {}}, {"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
            }),
        ),
        case(
            "ports merge by containerPort",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]}]}}),
            pod_with(|p| {
                p["spec"]["containers"][0]["ports"] = json!([
                {"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}])
            }),
        ),
        case(
            "volumeMounts merge by mountPath",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "volumeMounts": [{"mountPath": "/data", "readOnly": true}]}]}}),
            pod_with(|p| {
                p["spec"]["containers"][0]["volumeMounts"] = json!([
                {"name": "data", "mountPath": "/data", "readOnly": true}])
            }),
        ),
        case(
            "$retainKeys switches a volume from emptyDir to hostPath",
            POD,
            pod(),
            json!({"spec": {
                "$setElementOrder/volumes": [{"name": "data"}],
                "volumes": [{"$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/srv"}, "name": "data"}]
            }}),
            pod_with(|p| {
                p["spec"]["volumes"] = json!([{"name": "data", "hostPath": {"path": "/srv"}}])
            }),
        ),
        case(
            "volume source without $retainKeys merges both sources",
            POD,
            pod(),
            json!({"spec": {"volumes": [{"name": "data", "hostPath": {"path": "/srv"}}]}}),
            pod_with(|p| {
                p["spec"]["volumes"] =
                    json!([{"name": "data", "emptyDir": {}, "hostPath": {"path": "/srv"}}])
            }),
        ),
        case(
            "tolerations have no strategy and are replaced",
            POD,
            pod(),
            json!({"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}}),
            pod_with(|p| {
                p["spec"]["tolerations"] = json!([{"key": "other", "operator": "Exists"}])
            }),
        ),
        case(
            "command (no strategy) is replaced inside a merged container",
            POD,
            json!({"spec": {"containers": [{"name": "main", "command": ["a", "b"]}]}}),
            json!({"spec": {"containers": [{"name": "main", "command": ["c"]}]}}),
            json!({"spec": {"containers": [{"name": "main", "command": ["c"]}]}}),
        ),
        case(
            "finalizers are a merged set",
            POD,
            pod(),
            json!({"metadata": {"finalizers": ["b.example/y", "c.example/z"]}}),
            pod_with(|p| {
                p["metadata"]["finalizers"] = json!(["a.example/x", "b.example/y", "c.example/z"])
            }),
        ),
        case(
            "$deleteFromPrimitiveList/finalizers",
            POD,
            pod(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/x", "never/there"]}}),
            pod_with(|p| p["metadata"]["finalizers"] = json!(["b.example/y"])),
        ),
        case(
            "kubectl apply finalizer swap",
            POD,
            pod(),
            json!({"metadata": {
                "$setElementOrder/finalizers": ["b.example/y", "c.example/z"],
                "$deleteFromPrimitiveList/finalizers": ["a.example/x"],
                "finalizers": ["c.example/z"]
            }}),
            pod_with(|p| p["metadata"]["finalizers"] = json!(["b.example/y", "c.example/z"])),
        ),
        case(
            "$deleteFromPrimitiveList on a missing list adds nothing",
            POD,
            json!({"metadata": {}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}),
            json!({"metadata": {}}),
        ),
        case(
            "ownerReferences merge by uid",
            POD,
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "rs", "controller": true}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "1", "blockOwnerDeletion": true}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "rs", "controller": true, "blockOwnerDeletion": true}]}}),
        ),
        case(
            "$patch: replace as a list element replaces the list",
            POD,
            pod(),
            json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}),
            pod_with(|p| p["spec"]["containers"] = json!([{"name": "only", "image": "x"}])),
        ),
        case(
            "$patch: replace on a map replaces the map",
            POD,
            pod(),
            json!({"metadata": {"labels": {"$patch": "replace", "fresh": "yes"}}}),
            pod_with(|p| p["metadata"]["labels"] = json!({"fresh": "yes"})),
        ),
        case(
            "$patch: delete on a map removes it",
            POD,
            pod(),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            pod_with(|p| {
                if let Some(meta) = p["metadata"].as_object_mut() {
                    meta.shift_remove("labels");
                }
            }),
        ),
        case(
            "$patch: merge on a map is the default merge",
            POD,
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"metadata": {"labels": {"$patch": "merge", "b": "2"}}}),
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
        ),
        case(
            "patch creates a missing merge list",
            POD,
            json!({"spec": {"containers": [{"name": "main"}]}}),
            json!({"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}, {"name": "GONE", "$patch": "delete"}]}]}}),
            json!({"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}}),
        ),
        case(
            "directives inside a new object are applied, not copied",
            POD,
            json!({"spec": {}}),
            json!({"spec": {"containers": [{"name": "c", "$setElementOrder/env": [{"name": "A"}], "env": [{"name": "A"}]}],
                "volumes": [{"$retainKeys": ["name", "emptyDir"], "name": "v", "emptyDir": {}}]}}),
            json!({"spec": {"containers": [{"name": "c", "env": [{"name": "A"}]}], "volumes": [{"name": "v", "emptyDir": {}}]}}),
        ),
        case(
            "patch merge key 80 matches 80.0",
            POD,
            json!({"spec": {"containers": [{"name": "m", "ports": [{"containerPort": 80}]}]}}),
            json!({"spec": {"containers": [{"name": "m", "ports": [{"containerPort": 80.0, "name": "http"}]}]}}),
            json!({"spec": {"containers": [{"name": "m", "ports": [{"containerPort": 80.0, "name": "http"}]}]}}),
        ),
        case(
            "pod status conditions merge by type",
            POD,
            json!({"status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}}),
            json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
            json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}}),
        ),
        case(
            "pod status podIPs merge by ip",
            POD,
            json!({"status": {"podIPs": [{"ip": "10.0.0.1"}]}}),
            json!({"status": {"podIPs": [{"ip": "fd00::1"}]}}),
            json!({"status": {"podIPs": [{"ip": "fd00::1"}, {"ip": "10.0.0.1"}]}}),
        ),
        case(
            "deployment template image change (kubectl apply)",
            DEPLOYMENT,
            deployment(),
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "main"}],
                "containers": [{"image": "nginx:1.27", "name": "main"}]
            }}}}),
            {
                let mut d = deployment();
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
                d
            },
        ),
        case(
            "deployment template env merges",
            DEPLOYMENT,
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]}}}}),
            {
                let mut d = deployment();
                d["spec"]["template"]["spec"]["containers"][0]["env"] =
                    json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]);
                d
            },
        ),
        case(
            "deployment strategy switch with $retainKeys",
            DEPLOYMENT,
            deployment(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            {
                let mut d = deployment();
                d["spec"]["strategy"] = json!({"type": "Recreate"});
                d
            },
        ),
        case(
            "deployment status conditions merge by type",
            DEPLOYMENT,
            deployment(),
            json!({"status": {"conditions": [{"type": "Progressing", "status": "False"}]}}),
            {
                let mut d = deployment();
                d["status"]["conditions"][1]["status"] = json!("False");
                d
            },
        ),
        case(
            "replicaset template containers merge",
            REPLICA_SET,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]}}}}),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "3"}]}}}}),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "3"}]}}}}),
        ),
        case(
            "cronjob job template containers merge",
            CRON_JOB,
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1", "args": ["x"]}]}}}}}}),
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2"}]}}}}}}),
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2", "args": ["x"]}]}}}}}}),
        ),
        case(
            "job status conditions merge by type",
            JOB,
            json!({"status": {"conditions": [{"type": "Complete", "status": "False"}]}}),
            json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}),
            json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}),
        ),
        case(
            "node status addresses merge by type",
            NODE,
            json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n1"}]}}),
            json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}}),
            json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": "n1"}]}}),
        ),
        case(
            "node taints have no strategy and are replaced",
            NODE,
            json!({"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}}),
            json!({"spec": {"taints": [{"key": "b", "effect": "NoSchedule"}]}}),
            json!({"spec": {"taints": [{"key": "b", "effect": "NoSchedule"}]}}),
        ),
        case(
            "service ports merge by port",
            SERVICE,
            json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}}),
        ),
        case(
            "configmap data merges and deletes",
            CONFIG_MAP,
            json!({"data": {"a": "1", "b": "2"}}),
            json!({"data": {"a": null, "c": "3"}}),
            json!({"data": {"b": "2", "c": "3"}}),
        ),
        case(
            "podpreset env has no strategy and is replaced",
            POD_PRESET,
            json!({"spec": {"env": [{"name": "A", "value": "1"}]}}),
            json!({"spec": {"env": [{"name": "B", "value": "2"}]}}),
            json!({"spec": {"env": [{"name": "B", "value": "2"}]}}),
        ),
        case(
            "namespace spec.finalizers has no strategy",
            NAMESPACE,
            json!({"spec": {"finalizers": ["kubernetes"]}}),
            json!({"spec": {"finalizers": []}}),
            json!({"spec": {"finalizers": []}}),
        ),
        case(
            "top-level $patch: delete empties the object",
            POD,
            pod(),
            json!({"$patch": "delete"}),
            json!({}),
        ),
    ]
}

#[test]
fn strategic_merge_patch_cases() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for case in cases {
        let result = strategic_merge_patch(&case.original, &case.patch, case.gvk)
            .unwrap_or_else(|e| panic!("{}: unexpected error {e}", case.name));
        assert_eq!(result, case.expected, "{}", case.name);
        // Key order is not significant in JSON, but element order in lists is: compare the text
        // of lists through serde_json's order-insensitive map equality above, and make sure no
        // directive leaked into the result.
        assert!(
            !result.to_string().contains("\"$"),
            "{}: directive left in {result}",
            case.name
        );
    }
}

#[test]
fn strategic_merge_patch_errors() {
    use kinds::*;
    let cases: Vec<(&str, Gvk, Value, Value, &str, u16)> = vec![
        (
            "element without merge key",
            POD,
            pod(),
            json!({"spec": {"containers": [{"image": "x"}]}}),
            "does not contain declared merge key: name",
            400,
        ),
        (
            "delete element without merge key",
            POD,
            pod(),
            json!({"spec": {"containers": [{"$patch": "delete"}]}}),
            "does not contain declared merge key",
            400,
        ),
        (
            "null element in a keyed list",
            POD,
            pod(),
            json!({"spec": {"containers": [null]}}),
            "found a null element",
            400,
        ),
        (
            "unknown $patch value on a map",
            POD,
            pod(),
            json!({"metadata": {"labels": {"$patch": "explode"}}}),
            "unknown patch type",
            400,
        ),
        (
            "unknown $patch value in a list",
            POD,
            pod(),
            json!({"spec": {"containers": [{"name": "main", "$patch": "explode"}]}}),
            "unknown patch type",
            400,
        ),
        (
            "$patch: merge in a list",
            POD,
            pod(),
            json!({"spec": {"containers": [{"$patch": "merge"}]}}),
            "merging lists cannot yet be specified",
            400,
        ),
        (
            "$retainKeys not a list",
            POD,
            pod(),
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            "invalid patch format of retainKeys",
            400,
        ),
        (
            "patch sets a key missing from $retainKeys",
            DEPLOYMENT,
            deployment(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "RollingUpdate", "rollingUpdate": {}}}}),
            "not listed in $retainKeys",
            400,
        ),
        (
            "$setElementOrder disagrees with the patch list",
            POD,
            pod(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
                "containers": [{"name": "sidecar"}, {"name": "main"}]}}),
            "doesn't match",
            400,
        ),
        (
            "$setElementOrder without a field",
            POD,
            pod(),
            json!({"spec": {"$setElementOrder": []}}),
            "invalid patch format of setElementOrder list",
            400,
        ),
        (
            "$setElementOrder entry without merge key",
            POD,
            pod(),
            json!({"spec": {"$setElementOrder/containers": [{"image": "x"}]}}),
            "invalid patch format of setElementOrder list",
            400,
        ),
        (
            "$deleteFromPrimitiveList not a list",
            POD,
            pod(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
            "invalid patch format of primitive list",
            400,
        ),
        (
            "mixed element types in a set",
            POD,
            pod(),
            json!({"metadata": {"finalizers": [1]}}),
            "list element types are not identical",
            422,
        ),
        (
            "objects in a set without merge key",
            NODE,
            json!({"spec": {"podCIDRs": ["10.0.0.0/24"]}}),
            json!({"spec": {"podCIDRs": [{"cidr": "x"}]}}),
            "cannot merge lists without merge key",
            422,
        ),
        (
            "patch is not an object",
            POD,
            pod(),
            json!([1]),
            "must be a JSON object",
            400,
        ),
        (
            "custom resource",
            Gvk::new("example.com", "v1", "Widget"),
            json!({}),
            json!({}),
            "unknown format",
            415,
        ),
    ];
    for (name, gvk, original, patch, fragment, status) in cases {
        match strategic_merge_patch(&original, &patch, gvk) {
            Ok(result) => panic!("{name}: expected an error, got {result}"),
            Err(e) => {
                assert!(
                    e.to_string().contains(fragment),
                    "{name}: {e} lacks {fragment:?}"
                );
                assert_eq!(e.status_code(), status, "{name}: {e}");
            }
        }
    }
}

#[test]
fn list_order_follows_the_patch() {
    // Original order A B; the patch names B then a new C: Kubernetes puts patch elements in patch
    // order and slots server-only elements before the first patch element they preceded.
    let original = json!({"status": {"conditions": [{"type": "A"}, {"type": "B"}]}});
    let patch = json!({"status": {"conditions": [{"type": "B", "s": 1}, {"type": "C"}]}});
    let result = strategic_merge_patch(&original, &patch, kinds::POD).expect("valid patch");
    assert_eq!(
        result,
        json!({"status": {"conditions": [{"type": "A"}, {"type": "B", "s": 1}, {"type": "C"}]}})
    );
}

#[test]
fn original_is_not_modified() {
    let original = pod();
    let patch = json!({"spec": {"containers": [{"name": "main", "image": "x"}]}});
    let before = original.clone();
    let _ = strategic_merge_patch(&original, &patch, kinds::POD).expect("valid patch");
    assert_eq!(original, before);
    let err = strategic_merge_patch(
        &original,
        &json!({"spec": {"containers": [{}]}}),
        kinds::POD,
    );
    assert!(matches!(err, Err(PatchError::BadRequest(_))));
    assert_eq!(original, before);
}

#[test]
fn long_lists_merge_in_linear_time() {
    // A quadratic merge of 30k elements (~10^9 key comparisons) would take minutes in a debug build.
    const N: usize = 30_000;
    let env = |suffix: &str| -> Vec<Value> {
        (0..N)
            .map(|i| json!({"name": format!("V{i}"), "value": suffix}))
            .collect()
    };
    let original = json!({"spec": {"containers": [{"name": "main", "env": env("old")}]}});
    let mut updates = env("new");
    updates.reverse();
    let patch = json!({"spec": {"containers": [{"name": "main", "env": updates}]}});
    let started = std::time::Instant::now();
    let result = strategic_merge_patch(&original, &patch, kinds::POD).expect("valid patch");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let merged = result["spec"]["containers"][0]["env"]
        .as_array()
        .map(Vec::len);
    assert_eq!(merged, Some(N));
    // Patch order wins: the reversed list comes back reversed, with the new values.
    assert_eq!(
        result["spec"]["containers"][0]["env"][0],
        json!({"name": format!("V{}", N - 1), "value": "new"})
    );
}
