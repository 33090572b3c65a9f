//! Core v1 kinds sent by `kubectl create namespace|secret|configmap|service|serviceaccount`.

mod common;

use common::{assert_json_eq, decode_message, go_meta, labels, s, typed};
use k8s_pb::api::core::v1 as pb;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

#[test]
fn namespace_with_labels() {
    let mut metadata = go_meta("team-a", "");
    metadata.labels = labels(&[("env", "dev"), ("team", "a")]);
    let namespace = pb::Namespace {
        metadata: Some(metadata),
        spec: Some(pb::NamespaceSpec::default()),
        status: Some(pb::NamespaceStatus {
            phase: s(""),
            ..Default::default()
        }),
    };
    let json = decode_message("v1", "Namespace", &namespace);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "team-a", "labels": {"env": "dev", "team": "a"}},
            "spec": {}, "status": {}
        }),
    );
    let typed: k8s_openapi::api::core::v1::Namespace = typed(&json);
    assert_eq!(typed.metadata.labels.unwrap()["team"], "a");
}

#[test]
fn secret_with_binary_data_and_type() {
    let secret = pb::Secret {
        metadata: Some(go_meta("creds", "default")),
        immutable: None,
        data: [
            ("password".to_string(), b"s3cr3t".to_vec()),
            ("blob".to_string(), vec![0u8, 255, 10, 13]),
        ]
        .into_iter()
        .collect(),
        string_data: Default::default(),
        r#type: s("kubernetes.io/basic-auth"),
    };
    let json = decode_message("v1", "Secret", &secret);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "default"},
            "data": {"password": "czNjcjN0", "blob": "AP8KDQ=="},
            "type": "kubernetes.io/basic-auth"
        }),
    );
    let typed: k8s_openapi::api::core::v1::Secret = typed(&json);
    let data = typed.data.unwrap();
    assert_eq!(data["blob"].0, vec![0u8, 255, 10, 13]);
    assert_eq!(typed.type_.as_deref(), Some("kubernetes.io/basic-auth"));
}

#[test]
fn configmap_with_data_and_binary_data_and_immutable_false() {
    let config_map = pb::ConfigMap {
        metadata: Some(go_meta("settings", "default")),
        immutable: Some(false), // pointer in Go: an explicit false must stay
        data: labels(&[("app.conf", "x=1\n"), ("empty", "")]),
        binary_data: [("logo.png".to_string(), vec![0x89, b'P', b'N', b'G'])]
            .into_iter()
            .collect(),
    };
    let json = decode_message("v1", "ConfigMap", &config_map);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"},
            "immutable": false,
            "data": {"app.conf": "x=1\n", "empty": ""},
            "binaryData": {"logo.png": "iVBORw=="}
        }),
    );
    let typed: k8s_openapi::api::core::v1::ConfigMap = typed(&json);
    assert_eq!(
        typed.binary_data.unwrap()["logo.png"].0,
        vec![0x89, b'P', b'N', b'G']
    );
}

fn service_port(name: &str, port: i32, target: IntOrString) -> pb::ServicePort {
    pb::ServicePort {
        name: s(name),
        protocol: s("TCP"),
        app_protocol: None,
        port: Some(port),
        target_port: Some(target),
        node_port: Some(0),
    }
}

#[test]
fn service_with_ports_and_int_or_string_target_ports() {
    let service = pb::Service {
        metadata: Some(go_meta("web", "default")),
        spec: Some(pb::ServiceSpec {
            ports: vec![
                service_port(
                    "http",
                    80,
                    IntOrString {
                        r#type: Some(0),
                        int_val: Some(8080),
                        str_val: s(""),
                    },
                ),
                service_port(
                    "metrics",
                    9090,
                    IntOrString {
                        r#type: Some(1),
                        int_val: Some(0),
                        str_val: s("metrics"),
                    },
                ),
            ],
            selector: labels(&[("app", "web")]),
            cluster_ip: s("10.96.0.10"),
            cluster_ips: vec!["10.96.0.10".to_string(), "fd00::10".to_string()],
            r#type: s("LoadBalancer"),
            external_ips: vec!["192.0.2.7".to_string()],
            session_affinity: s(""),
            load_balancer_ip: s("192.0.2.8"),
            external_name: s(""),
            external_traffic_policy: s(""),
            health_check_node_port: Some(0),
            publish_not_ready_addresses: Some(false),
            ip_families: vec!["IPv4".to_string(), "IPv6".to_string()],
            allocate_load_balancer_node_ports: Some(false),
            ..Default::default()
        }),
        status: Some(pb::ServiceStatus {
            load_balancer: Some(pb::LoadBalancerStatus::default()),
            ..Default::default()
        }),
    };
    let json = decode_message("v1", "Service", &service);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "ports": [
                    {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics"}
                ],
                "selector": {"app": "web"},
                "clusterIP": "10.96.0.10",
                "clusterIPs": ["10.96.0.10", "fd00::10"],
                "type": "LoadBalancer",
                "externalIPs": ["192.0.2.7"],
                "loadBalancerIP": "192.0.2.8",
                "ipFamilies": ["IPv4", "IPv6"],
                "allocateLoadBalancerNodePorts": false
            },
            "status": {"loadBalancer": {}}
        }),
    );
    let typed: k8s_openapi::api::core::v1::Service = typed(&json);
    let spec = typed.spec.unwrap();
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString as Ios;
    let ports = spec.ports.unwrap();
    assert_eq!(ports[0].target_port, Some(Ios::Int(8080)));
    assert_eq!(
        ports[1].target_port,
        Some(Ios::String("metrics".to_string()))
    );
    assert_eq!(spec.external_ips.unwrap(), vec!["192.0.2.7".to_string()]);
}

#[test]
fn service_account_with_automount_false() {
    let service_account = pb::ServiceAccount {
        metadata: Some(go_meta("builder", "ci")),
        secrets: vec![pb::ObjectReference {
            name: s("builder-token"),
            ..Default::default()
        }],
        image_pull_secrets: vec![pb::LocalObjectReference { name: s("regcred") }],
        automount_service_account_token: Some(false),
    };
    let json = decode_message("v1", "ServiceAccount", &service_account);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder", "namespace": "ci"},
            "secrets": [{"name": "builder-token"}],
            "imagePullSecrets": [{"name": "regcred"}],
            "automountServiceAccountToken": false
        }),
    );
    let _: k8s_openapi::api::core::v1::ServiceAccount = typed(&json);
}
