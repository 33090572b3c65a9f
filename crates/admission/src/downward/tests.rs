use serde_json::{json, Value};

use super::*;

fn pod() -> Value {
    json!({
        "metadata": {
            "name": "kubernetes-downwardapi-volume-example",
            "namespace": "team-a",
            "uid": "8b0a4c6c-1111-2222-3333-444455556666",
            "labels": {"zone": "us-est-coast", "cluster": "test-cluster1", "rack": "rack-22"},
            "annotations": {"build": "two", "builder": "john-doe", "quote": "say \"hi\"\n\tok\\"},
        },
        "spec": {
            "nodeName": "node-1",
            "serviceAccountName": "builder",
            "containers": [
                {"name": "client", "resources": {
                    "requests": {"cpu": "250m", "memory": "32Mi"},
                    "limits": {"cpu": "500m", "memory": "64Mi", "ephemeral-storage": "1Gi"}}},
                {"name": "nolimits"},
            ],
            "initContainers": [{"name": "setup", "resources": {"limits": {"cpu": "1.5"}}}],
        },
        "status": {
            "hostIP": "10.0.0.5",
            "hostIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}, {"ip": "fd00:244::7"}],
        },
    })
}

fn allocatable() -> Value {
    json!({"cpu": "2", "memory": "4032412Ki", "ephemeral-storage": "50Gi", "pods": "110"})
}

#[test]
fn simple_fields() {
    let p = pod();
    let cases = [
        ("metadata.name", "kubernetes-downwardapi-volume-example"),
        ("metadata.namespace", "team-a"),
        ("metadata.uid", "8b0a4c6c-1111-2222-3333-444455556666"),
        ("spec.nodeName", "node-1"),
        ("spec.serviceAccountName", "builder"),
        ("status.hostIP", "10.0.0.5"),
        ("status.hostIPs", "10.0.0.5,fd00::5"),
        ("status.podIP", "10.244.1.7"),
        ("status.podIPs", "10.244.1.7,fd00:244::7"),
    ];
    for (path, expected) in cases {
        assert_eq!(
            resolve_field_ref(&p, path).as_deref(),
            Ok(expected),
            "{path}"
        );
    }
}

#[test]
fn labels_are_formatted_like_the_kubelet() {
    assert_eq!(
        resolve_field_ref(&pod(), "metadata.labels").as_deref(),
        Ok("cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\"")
    );
}

#[test]
fn annotations_are_quoted_with_go_escapes() {
    assert_eq!(
        resolve_field_ref(&pod(), "metadata.annotations").as_deref(),
        Ok("build=\"two\"\nbuilder=\"john-doe\"\nquote=\"say \\\"hi\\\"\\n\\tok\\\\\"")
    );
    let unicode = json!({"metadata": {"labels": {"a": "héllo\u{1}\u{200b}"}}});
    assert_eq!(
        resolve_field_ref(&unicode, "metadata.labels").as_deref(),
        Ok("a=\"héllo\\x01\\u200b\"")
    );
}

#[test]
fn empty_or_missing_maps_give_empty_strings() {
    let bare = json!({"metadata": {"name": "x"}});
    assert_eq!(
        resolve_field_ref(&bare, "metadata.labels").as_deref(),
        Ok("")
    );
    assert_eq!(
        resolve_field_ref(&bare, "metadata.annotations").as_deref(),
        Ok("")
    );
    assert_eq!(resolve_field_ref(&bare, "spec.nodeName").as_deref(), Ok(""));
    assert_eq!(resolve_field_ref(&bare, "status.podIPs").as_deref(), Ok(""));
}

#[test]
fn pod_ips_fall_back_to_the_single_field() {
    let p = json!({"status": {"podIP": "10.1.2.3"}});
    assert_eq!(
        resolve_field_ref(&p, "status.podIPs").as_deref(),
        Ok("10.1.2.3")
    );
}

#[test]
fn subscripted_labels_and_annotations() {
    let p = pod();
    assert_eq!(
        resolve_field_ref(&p, "metadata.labels['zone']").as_deref(),
        Ok("us-est-coast")
    );
    assert_eq!(
        resolve_field_ref(&p, "metadata.annotations['builder']").as_deref(),
        Ok("john-doe")
    );
    assert_eq!(
        resolve_field_ref(&p, "metadata.labels['missing']").as_deref(),
        Ok("")
    );
    let error = resolve_field_ref(&p, "metadata.labels['bad key!']").expect_err("invalid key");
    assert!(
        error.starts_with("invalid key subscript in metadata.labels['bad key!']"),
        "{error}"
    );
    // Annotation keys are validated case-insensitively.
    assert_eq!(
        resolve_field_ref(&p, "metadata.annotations['Build']").as_deref(),
        Ok("")
    );
}

#[test]
fn unsupported_paths_are_errors() {
    let p = pod();
    assert_eq!(
        resolve_field_ref(&p, "spec.containers"),
        Err("unsupported fieldPath: spec.containers".to_string())
    );
    assert_eq!(
        resolve_field_ref(&p, "metadata.name['x']"),
        Err("fieldPath \"metadata.name['x']\" does not support subscript".to_string())
    );
}

fn resource(container: &str, name: &str, divisor: Option<&str>) -> Result<String, String> {
    resolve_resource_field_ref(&pod(), container, name, divisor, &allocatable())
}

#[test]
fn cpu_with_divisors() {
    assert_eq!(
        resource("client", "limits.cpu", None).as_deref(),
        Ok("1"),
        "500m rounds up to 1 core"
    );
    assert_eq!(
        resource("client", "limits.cpu", Some("1m")).as_deref(),
        Ok("500")
    );
    assert_eq!(
        resource("client", "requests.cpu", Some("1m")).as_deref(),
        Ok("250")
    );
    assert_eq!(
        resource("client", "requests.cpu", Some("100m")).as_deref(),
        Ok("3")
    );
    assert_eq!(
        resource("setup", "limits.cpu", Some("1")).as_deref(),
        Ok("2"),
        "init container, 1.5 rounds up"
    );
    assert_eq!(
        resource("setup", "limits.cpu", Some("1m")).as_deref(),
        Ok("1500")
    );
}

#[test]
fn memory_with_divisors() {
    assert_eq!(
        resource("client", "limits.memory", None).as_deref(),
        Ok("67108864")
    );
    assert_eq!(
        resource("client", "limits.memory", Some("1Mi")).as_deref(),
        Ok("64")
    );
    assert_eq!(
        resource("client", "requests.memory", Some("1Mi")).as_deref(),
        Ok("32")
    );
    assert_eq!(
        resource("client", "limits.memory", Some("1M")).as_deref(),
        Ok("68"),
        "67.1 MB rounds up"
    );
    assert_eq!(
        resource("client", "limits.memory", Some("1Gi")).as_deref(),
        Ok("1")
    );
    assert_eq!(
        resource("client", "limits.ephemeral-storage", Some("1Mi")).as_deref(),
        Ok("1024")
    );
}

#[test]
fn missing_limits_fall_back_to_node_allocatable() {
    assert_eq!(
        resource("nolimits", "limits.cpu", Some("1m")).as_deref(),
        Ok("2000")
    );
    assert_eq!(
        resource("nolimits", "limits.memory", Some("1Ki")).as_deref(),
        Ok("4032412")
    );
    assert_eq!(
        resource("nolimits", "limits.ephemeral-storage", Some("1Gi")).as_deref(),
        Ok("50")
    );
    // Requests do not fall back.
    assert_eq!(
        resource("nolimits", "requests.memory", None).as_deref(),
        Ok("0")
    );
    // No node information at all: zero.
    assert_eq!(
        resolve_resource_field_ref(&pod(), "nolimits", "limits.cpu", None, &Value::Null).as_deref(),
        Ok("0")
    );
}

#[test]
fn hugepages_and_errors() {
    let p = json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"hugepages-2Mi": "100Mi"}}}]}});
    assert_eq!(
        resolve_resource_field_ref(&p, "c", "limits.hugepages-2Mi", Some("1Mi"), &Value::Null)
            .as_deref(),
        Ok("100")
    );
    assert_eq!(
        resource("ghost", "limits.cpu", None),
        Err("container ghost not found".to_string())
    );
    assert_eq!(
        resource("client", "limits.gpu", None),
        Err("unsupported container resource : limits.gpu".to_string())
    );
    assert!(resource("client", "cpu", None).is_err());
    assert!(resource("client", "limits.cpu", Some("lots")).is_err());
    assert!(resource("client", "limits.cpu", Some("-1")).is_err());
    // A zero divisor counts as unset.
    assert_eq!(
        resource("client", "limits.memory", Some("0")).as_deref(),
        Ok("67108864")
    );
}

#[test]
fn unparsable_quantities_get_kubernetes_message() {
    let format = peapod_apimachinery::quantity::QUANTITY_FORMAT_MSG;
    assert_eq!(
        resource("client", "limits.cpu", Some("lots")),
        Err(format!("{format}: \"lots\""))
    );
    assert_eq!(
        resource("client", "limits.cpu", Some("1e999")),
        Err("quantity \"1e999\" is too large".to_string())
    );
}
