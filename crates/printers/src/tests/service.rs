use super::{ago, text};
use peapod_apimachinery::gvk::kinds::{ENDPOINTS, SERVICE};
use serde_json::{json, Value};

fn service(spec: Value, status: Value) -> Value {
    json!({"metadata": {"name": "web", "creationTimestamp": ago(10)}, "spec": spec, "status": status})
}

#[test]
fn cluster_ip_service() {
    let s = service(
        json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
               "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
               "selector": {"app": "web", "tier": "fe"}}),
        json!({}),
    );
    assert_eq!(text(SERVICE, &s, "Type"), "ClusterIP");
    assert_eq!(text(SERVICE, &s, "Cluster-IP"), "10.96.0.10");
    assert_eq!(text(SERVICE, &s, "External-IP"), "<none>");
    assert_eq!(text(SERVICE, &s, "Port(s)"), "80/TCP,53/UDP");
    assert_eq!(text(SERVICE, &s, "Age"), "10s");
    assert_eq!(text(SERVICE, &s, "Selector"), "app=web,tier=fe");
}

#[test]
fn node_port_service_with_external_ips() {
    let s = service(
        json!({"type": "NodePort", "clusterIPs": ["10.96.1.1"], "externalIPs": ["1.2.3.4", "5.6.7.8"],
               "ports": [{"port": 80, "nodePort": 30080}]}),
        json!({}),
    );
    assert_eq!(text(SERVICE, &s, "Port(s)"), "80:30080/TCP");
    assert_eq!(text(SERVICE, &s, "External-IP"), "1.2.3.4,5.6.7.8");
    assert_eq!(text(SERVICE, &s, "Selector"), "<none>");
}

#[test]
fn load_balancer_service() {
    let pending = service(
        json!({"type": "LoadBalancer", "clusterIPs": ["10.96.1.2"]}),
        json!({}),
    );
    assert_eq!(text(SERVICE, &pending, "External-IP"), "<pending>");
    assert_eq!(text(SERVICE, &pending, "Port(s)"), "<none>");
    let assigned = service(
        json!({"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]}),
        json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example.com"}]}}),
    );
    assert_eq!(
        text(SERVICE, &assigned, "External-IP"),
        "203.0.113.7,lb.example.com,9.9.9.9"
    );
}

#[test]
fn external_name_and_headless_services() {
    let ext = service(
        json!({"type": "ExternalName", "externalName": "db.example.com"}),
        json!({}),
    );
    assert_eq!(text(SERVICE, &ext, "External-IP"), "db.example.com");
    assert_eq!(text(SERVICE, &ext, "Cluster-IP"), "<none>");
    let headless = service(
        json!({"clusterIP": "None", "clusterIPs": ["None"]}),
        json!({}),
    );
    assert_eq!(text(SERVICE, &headless, "Type"), "ClusterIP");
    assert_eq!(text(SERVICE, &headless, "Cluster-IP"), "None");
}

fn endpoints(subsets: Value) -> Value {
    json!({"metadata": {"name": "web", "creationTimestamp": ago(10)}, "subsets": subsets})
}

#[test]
fn endpoints_listing() {
    assert_eq!(
        text(ENDPOINTS, &endpoints(json!(null)), "Endpoints"),
        "<none>"
    );
    let two = endpoints(
        json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 8080}]}]),
    );
    assert_eq!(
        text(ENDPOINTS, &two, "Endpoints"),
        "10.0.0.1:8080,10.0.0.2:8080"
    );
    let headless = endpoints(json!([{"addresses": [{"ip": "10.0.0.1"}]}]));
    assert_eq!(text(ENDPOINTS, &headless, "Endpoints"), "10.0.0.1");
    let not_ready =
        endpoints(json!([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]));
    assert_eq!(text(ENDPOINTS, &not_ready, "Endpoints"), "");
    let v6 = endpoints(json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]));
    assert_eq!(text(ENDPOINTS, &v6, "Endpoints"), "[fd00::1]:80");
}

#[test]
fn endpoints_beyond_three_are_summarized() {
    let many = endpoints(json!([{
        "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}],
        "ports": [{"port": 80}, {"port": 443}],
    }]));
    assert_eq!(
        text(ENDPOINTS, &many, "Endpoints"),
        "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more..."
    );
}
