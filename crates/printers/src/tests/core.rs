use super::{ago, cell, text};
use peapod_apimachinery::gvk::kinds::{CONFIG_MAP, LEASE, NAMESPACE, SECRET, SERVICE_ACCOUNT};
use serde_json::json;

#[test]
fn namespace_row() {
    let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": ago(90)}, "status": {"phase": "Active"}});
    assert_eq!(text(NAMESPACE, &ns, "Name"), "kube-system");
    assert_eq!(text(NAMESPACE, &ns, "Status"), "Active");
    assert_eq!(text(NAMESPACE, &ns, "Age"), "90s");
    let deleting = json!({"metadata": {"name": "old"}, "status": {"phase": "Terminating"}});
    assert_eq!(text(NAMESPACE, &deleting, "Status"), "Terminating");
}

#[test]
fn config_map_counts_data_and_binary_data() {
    let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(cell(CONFIG_MAP, &cm, "Data"), json!(3));
    assert_eq!(
        cell(CONFIG_MAP, &json!({"metadata": {"name": "e"}}), "Data"),
        json!(0)
    );
}

#[test]
fn secret_row() {
    let s = json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(text(SECRET, &s, "Type"), "kubernetes.io/tls");
    assert_eq!(cell(SECRET, &s, "Data"), json!(2));
}

#[test]
fn service_account_counts_secrets() {
    let sa = json!({"metadata": {"name": "default"}, "secrets": [{"name": "t"}]});
    assert_eq!(cell(SERVICE_ACCOUNT, &sa, "Secrets"), json!(1));
    assert_eq!(
        cell(
            SERVICE_ACCOUNT,
            &json!({"metadata": {"name": "d"}}),
            "Secrets"
        ),
        json!(0)
    );
}

#[test]
fn lease_holder() {
    let l = json!({"metadata": {"name": "node1"}, "spec": {"holderIdentity": "node1"}});
    assert_eq!(text(LEASE, &l, "Holder"), "node1");
    assert_eq!(
        text(
            LEASE,
            &json!({"metadata": {"name": "x"}, "spec": {}}),
            "Holder"
        ),
        ""
    );
}
