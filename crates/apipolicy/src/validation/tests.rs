//! Table-driven validation tests: each case mutates a valid object and names the expected
//! cause (or none).

use crate::{
    admit_pod, apply_defaults, prepare_for_create, unknown_fields, validate_create, validate_update,
};
use peapod_apimachinery::gvk::kinds;
use peapod_apimachinery::Gvk;
use serde_json::{json, Value};

const UID: &str = "6a1c0f44-aaaa-bbbb-cccc-123456789abc";

fn base(gvk: Gvk) -> Value {
    let pod_spec = json!({"containers": [{"name": "main", "image": "nginx:1.25",
        "ports": [{"containerPort": 80, "name": "http"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        "volumes": [{"name": "data", "emptyDir": {}}]});
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": pod_spec});
    let workload = json!({"selector": {"matchLabels": {"app": "web"}}, "template": template});
    let job_tpl = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}});
    let meta = json!({"name": "web", "namespace": "default", "uid": UID});
    match gvk {
        g if g == kinds::POD => json!({"metadata": meta, "spec": pod_spec}),
        g if g == kinds::JOB => json!({"metadata": meta, "spec": {"template": job_tpl}}),
        g if g == kinds::CRON_JOB => {
            json!({"metadata": meta, "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": job_tpl}}}})
        }
        g if g == kinds::REPLICATION_CONTROLLER => {
            json!({"metadata": meta, "spec": {"selector": {"app": "web"}, "template": template}})
        }
        g if g == kinds::SERVICE => {
            json!({"metadata": meta, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        }
        g if g == kinds::CONFIG_MAP => json!({"metadata": meta, "data": {"app.conf": "x=1"}}),
        g if g == kinds::SECRET => json!({"metadata": meta, "data": {"password": "cGFzcw=="}}),
        g if g == kinds::NAMESPACE => json!({"metadata": {"name": "team-a"}}),
        g if g == kinds::LEASE => {
            json!({"metadata": meta, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}})
        }
        g if g == kinds::EVENT => {
            json!({"metadata": {"name": "web.1", "namespace": "default"}, "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"}, "reason": "Started"})
        }
        g if g == kinds::POD_PRESET => {
            json!({"metadata": meta, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "env": [{"name": "DB", "value": "db"}], "volumes": [{"name": "cache", "emptyDir": {}}],
            "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}})
        }
        _ => json!({"metadata": meta, "spec": workload}),
    }
}

/// Defaults, prepares and validates like the server's create path.
fn create_causes(gvk: Gvk, mut obj: Value) -> Vec<crate::FieldCause> {
    apply_defaults(gvk, &mut obj);
    if gvk == kinds::POD {
        admit_pod(&mut obj);
    }
    prepare_for_create(gvk, &mut obj);
    validate_create(gvk, &obj)
}

/// Sets a value at a dotted path with `[i]` indexes, creating objects as needed.
fn set(obj: &mut Value, path: &str, value: Value) {
    let mut cur = obj;
    let parts: Vec<&str> = path.split('.').collect();
    for (n, part) in parts.iter().enumerate() {
        let (key, idx) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        let last = n == parts.len() - 1;
        if idx.is_none() && last {
            cur[key] = value;
            return;
        }
        cur = &mut cur[key];
        if let Some(i) = idx {
            if !cur.is_array() {
                *cur = json!([]);
            }
            if let Some(a) = cur.as_array_mut() {
                while a.len() <= i {
                    a.push(json!({}));
                }
            }
            if last {
                cur[i] = value;
                return;
            }
            cur = &mut cur[i];
        }
    }
}

struct Case {
    name: &'static str,
    gvk: Gvk,
    edits: Vec<(&'static str, Value)>,
    /// (field, reason, message prefix); None means the object must be valid.
    want: Option<(&'static str, &'static str, &'static str)>,
}

fn case(
    name: &'static str,
    gvk: Gvk,
    edits: Vec<(&'static str, Value)>,
    want: Option<(&'static str, &'static str, &'static str)>,
) -> Case {
    Case {
        name,
        gvk,
        edits,
        want,
    }
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in cases {
        let mut obj = base(c.gvk);
        for (path, v) in c.edits {
            set(&mut obj, path, v);
        }
        let causes = create_causes(c.gvk, obj);
        match c.want {
            None if !causes.is_empty() => {
                failures.push(format!("{}: expected valid, got {causes:?}", c.name))
            }
            Some((field, reason, msg)) => {
                let hit = causes
                    .iter()
                    .any(|x| x.field == field && x.reason == reason && x.message.starts_with(msg));
                if !hit {
                    failures.push(format!(
                        "{}: expected {field} {reason} {msg:?}, got {causes:?}",
                        c.name
                    ));
                }
            }
            None => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const REQ: &str = "FieldValueRequired";
const INV: &str = "FieldValueInvalid";
const NSUP: &str = "FieldValueNotSupported";
const DUP: &str = "FieldValueDuplicate";
const FORB: &str = "FieldValueForbidden";

#[test]
fn metadata_rules() {
    let p = kinds::POD;
    run(vec![
        case("valid pod", p, vec![], None),
        case(
            "name required",
            p,
            vec![("metadata.name", json!(""))],
            Some((
                "metadata.name",
                REQ,
                "Required value: name or generateName is required",
            )),
        ),
        case(
            "name subdomain",
            p,
            vec![("metadata.name", json!("Foo_bar"))],
            Some((
                "metadata.name",
                INV,
                r#"Invalid value: "Foo_bar": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
            )),
        ),
        case(
            "dotted pod name ok",
            p,
            vec![("metadata.name", json!("web.v1"))],
            None,
        ),
        case(
            "service name dns1035",
            kinds::SERVICE,
            vec![("metadata.name", json!("1web"))],
            Some((
                "metadata.name",
                INV,
                "Invalid value: \"1web\": a DNS-1035 label",
            )),
        ),
        case(
            "namespace name label",
            kinds::NAMESPACE,
            vec![("metadata.name", json!("a.b"))],
            Some((
                "metadata.name",
                INV,
                "Invalid value: \"a.b\": a lowercase RFC 1123 label",
            )),
        ),
        case(
            "label key prefix",
            p,
            vec![(
                "metadata.labels",
                json!({"example.com/app": "web", "tier": ""}),
            )],
            None,
        ),
        case(
            "label key bad",
            p,
            vec![("metadata.labels", json!({"-app": "web"}))],
            Some((
                "metadata.labels",
                INV,
                "Invalid value: \"-app\": name part must consist of alphanumeric characters",
            )),
        ),
        case(
            "label value too long",
            p,
            vec![("metadata.labels", json!({"app": "a".repeat(64)}))],
            Some(("metadata.labels", INV, "Invalid value: \"aaaa")),
        ),
        case(
            "label key too many slashes",
            p,
            vec![("metadata.labels", json!({"a/b/c": "x"}))],
            Some((
                "metadata.labels",
                INV,
                "Invalid value: \"a/b/c\": a qualified name must consist",
            )),
        ),
        case(
            "annotation key",
            p,
            vec![("metadata.annotations", json!({"bad key": "x"}))],
            Some(("metadata.annotations", INV, "Invalid value: \"bad key\"")),
        ),
        case(
            "annotations too big",
            p,
            vec![(
                "metadata.annotations",
                json!({"big": "x".repeat(256 * 1024)}),
            )],
            Some((
                "metadata.annotations",
                "FieldValueTooLong",
                "Too long: may not be more than 262144 bytes",
            )),
        ),
    ]);
}

#[test]
fn pod_container_rules() {
    let p = kinds::POD;
    run(vec![
        case("no containers", p, vec![("spec.containers", json!([]))], Some(("spec.containers", REQ, "Required value"))),
        case("container name invalid", p, vec![("spec.containers[0].name", json!("Main"))], Some(("spec.containers[0].name", INV, "Invalid value: \"Main\": a lowercase RFC 1123 label"))),
        case("container name dup with init", p, vec![("spec.initContainers", json!([{"name": "main", "image": "x"}]))], Some(("spec.initContainers[0].name", DUP, "Duplicate value: \"main\""))),
        case("image required", p, vec![("spec.containers[0].image", json!(""))], Some(("spec.containers[0].image", REQ, "Required value"))),
        case("image whitespace", p, vec![("spec.containers[0].image", json!(" nginx"))], Some(("spec.containers[0].image", INV, "Invalid value: \" nginx\": must not have leading or trailing whitespace"))),
        case("pull policy enum", p, vec![("spec.containers[0].imagePullPolicy", json!("Sometimes"))], Some(("spec.containers[0].imagePullPolicy", NSUP, "Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""))),
        case("port out of range", p, vec![("spec.containers[0].ports[0].containerPort", json!(70000))], Some(("spec.containers[0].ports[0].containerPort", INV, "Invalid value: 70000: must be between 1 and 65535, inclusive"))),
        case("port required", p, vec![("spec.containers[0].ports[0].containerPort", json!(0))], Some(("spec.containers[0].ports[0].containerPort", REQ, "Required value"))),
        case("host port range", p, vec![("spec.containers[0].ports[0].hostPort", json!(-1))], Some(("spec.containers[0].ports[0].hostPort", INV, "Invalid value: -1: must be between 1 and 65535"))),
        case("port name too long", p, vec![("spec.containers[0].ports[0].name", json!("a-very-long-port-name"))], Some(("spec.containers[0].ports[0].name", INV, "Invalid value: \"a-very-long-port-name\": must be no more than 15 characters"))),
        case("port name no letter", p, vec![("spec.containers[0].ports[0].name", json!("8080"))], Some(("spec.containers[0].ports[0].name", INV, "Invalid value: \"8080\": must contain at least one letter (a-z)"))),
        case("port name dup", p, vec![("spec.containers[0].ports[1]", json!({"containerPort": 81, "name": "http"}))], Some(("spec.containers[0].ports[1].name", DUP, "Duplicate value: \"http\""))),
        case("protocol enum", p, vec![("spec.containers[0].ports[0].protocol", json!("ICMP"))], Some(("spec.containers[0].ports[0].protocol", NSUP, "Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""))),
        case("same port different protocol ok", p, vec![("spec.containers[0].ports[1]", json!({"containerPort": 80, "protocol": "UDP"}))], None),
        case("host port conflict", p, vec![
            ("spec.containers[0].ports[0].hostPort", json!(8080)),
            ("spec.containers[1]", json!({"name": "side", "image": "x", "ports": [{"containerPort": 9090, "hostPort": 8080}]}))],
            Some(("spec.containers[1].ports[0].hostPort", DUP, "Duplicate value: \"TCP//8080\""))),
        case("host network port mismatch", p, vec![("spec.hostNetwork", json!(true)), ("spec.containers[0].ports[0].hostPort", json!(81))],
            Some(("spec.containers[0].ports[0].hostPort", INV, "Invalid value: 81: must match `containerPort` when `hostNetwork` is true"))),
        case("host network port defaulted", p, vec![("spec.hostNetwork", json!(true))], None),
        case("env name relaxed ok", p, vec![("spec.containers[0].env", json!([{"name": "1.weird-Name", "value": "v"}]))], None),
        case("env name with =", p, vec![("spec.containers[0].env", json!([{"name": "A=B"}]))], Some(("spec.containers[0].env[0].name", INV, "Invalid value: \"A=B\": a valid environment variable name"))),
        case("env name required", p, vec![("spec.containers[0].env", json!([{"value": "x"}]))], Some(("spec.containers[0].env[0].name", REQ, "Required value"))),
        case("env fieldRef unsupported", p, vec![("spec.containers[0].env", json!([{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]))],
            Some(("spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", NSUP, "Unsupported value: \"spec.bogus\""))),
        case("env fieldRef label subscript ok", p, vec![("spec.containers[0].env", json!([{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}]))], None),
        case("env value and valueFrom", p, vec![("spec.containers[0].env", json!([{"name": "X", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]))],
            Some(("spec.containers[0].env[0].valueFrom", INV, "Invalid value: \"\": may not be specified when `value` is not empty"))),
        case("envFrom needs one source", p, vec![("spec.containers[0].envFrom", json!([{"prefix": "P_"}]))], Some(("spec.containers[0].envFrom[0]", INV, "Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"))),
        case("resources ok", p, vec![("spec.containers[0].resources", json!({"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}}))], None),
        case("requests above limits", p, vec![("spec.containers[0].resources", json!({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}))],
            Some(("spec.containers[0].resources.requests", INV, "Invalid value: \"2\": must be less than or equal to cpu limit of 1"))),
        case("bad quantity", p, vec![("spec.containers[0].resources", json!({"limits": {"memory": "12 GB"}}))],
            Some(("spec.containers[0].resources.limits[memory]", INV, "Invalid value: \"12 GB\": quantities must match the regular expression"))),
        case("negative quantity", p, vec![("spec.containers[0].resources", json!({"requests": {"cpu": "-1"}}))],
            Some(("spec.containers[0].resources.requests[cpu]", INV, "Invalid value: \"-1\": must be greater than or equal to 0"))),
        case("unqualified resource", p, vec![("spec.containers[0].resources", json!({"limits": {"gpu": "1"}}))],
            Some(("spec.containers[0].resources.limits[gpu]", INV, "Invalid value: \"gpu\": must be a standard resource type or fully qualified"))),
        case("container restartPolicy forbidden", p, vec![("spec.containers[0].restartPolicy", json!("Always"))], Some(("spec.containers[0].restartPolicy", FORB, "Forbidden: may not be set for non-init containers"))),
        case("sidecar with probe ok", p, vec![("spec.initContainers", json!([{"name": "proxy", "image": "envoy", "restartPolicy": "Always", "readinessProbe": {"tcpSocket": {"port": 15000}}}]))], None),
        case("init probe forbidden", p, vec![("spec.initContainers", json!([{"name": "init", "image": "x", "livenessProbe": {"exec": {"command": ["true"]}}}]))],
            Some(("spec.initContainers[0].livenessProbe", FORB, "Forbidden: may not be set for init containers without restartPolicy=Always"))),
        case("init restartPolicy enum", p, vec![("spec.initContainers", json!([{"name": "init", "image": "x", "restartPolicy": "Never"}]))],
            Some(("spec.initContainers[0].restartPolicy", NSUP, "Unsupported value: \"Never\": supported values: \"Always\""))),
    ]);
}

#[test]
fn pod_probe_lifecycle_and_spec_rules() {
    let p = kinds::POD;
    run(vec![
        case("probe ok", p, vec![("spec.containers[0].livenessProbe", json!({"httpGet": {"port": "http", "path": "/healthz"}, "initialDelaySeconds": 3}))], None),
        case("probe no handler", p, vec![("spec.containers[0].livenessProbe", json!({"periodSeconds": 3}))], Some(("spec.containers[0].livenessProbe", REQ, "Required value: must specify a handler type"))),
        case("probe two handlers", p, vec![("spec.containers[0].readinessProbe", json!({"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}))],
            Some(("spec.containers[0].readinessProbe.tcpSocket", FORB, "Forbidden: may not specify more than 1 handler type"))),
        case("probe negative", p, vec![("spec.containers[0].livenessProbe", json!({"tcpSocket": {"port": 80}, "initialDelaySeconds": -1}))],
            Some(("spec.containers[0].livenessProbe.initialDelaySeconds", INV, "Invalid value: -1: must be greater than or equal to 0"))),
        case("liveness successThreshold", p, vec![("spec.containers[0].livenessProbe", json!({"tcpSocket": {"port": 80}, "successThreshold": 2}))],
            Some(("spec.containers[0].livenessProbe.successThreshold", INV, "Invalid value: 2: must be 1"))),
        case("probe port 0", p, vec![("spec.containers[0].livenessProbe", json!({"tcpSocket": {"port": 0}}))],
            Some(("spec.containers[0].livenessProbe.tcpSocket.port", INV, "Invalid value: 0: must be between 1 and 65535, inclusive"))),
        case("probe scheme", p, vec![("spec.containers[0].livenessProbe", json!({"httpGet": {"port": 80, "scheme": "FTP"}}))],
            Some(("spec.containers[0].livenessProbe.httpGet.scheme", NSUP, "Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\""))),
        case("lifecycle sleep ok", p, vec![("spec.containers[0].lifecycle", json!({"preStop": {"sleep": {"seconds": 5}}}))], None),
        case("lifecycle no handler", p, vec![("spec.containers[0].lifecycle", json!({"postStart": {}}))], Some(("spec.containers[0].lifecycle.postStart", REQ, "Required value: must specify a handler type"))),
        case("lifecycle sleep too long", p, vec![("spec.containers[0].lifecycle", json!({"preStop": {"sleep": {"seconds": 60}}}))],
            Some(("spec.containers[0].lifecycle.preStop.sleep", INV, "Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)"))),
        case("restartPolicy enum", p, vec![("spec.restartPolicy", json!("Sometimes"))], Some(("spec.restartPolicy", NSUP, "Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", \"OnFailure\""))),
        case("dnsPolicy enum", p, vec![("spec.dnsPolicy", json!("Google"))], Some(("spec.dnsPolicy", NSUP, "Unsupported value: \"Google\""))),
        case("dnsPolicy None needs config", p, vec![("spec.dnsPolicy", json!("None"))], Some(("spec.dnsConfig", REQ, "Required value: must provide `dnsConfig` when `dnsPolicy` is None"))),
        case("dnsConfig ok", p, vec![("spec.dnsPolicy", json!("None")), ("spec.dnsConfig", json!({"nameservers": ["1.1.1.1"], "searches": ["svc.local"]}))], None),
        case("grace negative", p, vec![("spec.terminationGracePeriodSeconds", json!(-5))], Some(("spec.terminationGracePeriodSeconds", INV, "Invalid value: -5: must be greater than or equal to 0"))),
        case("activeDeadline zero", p, vec![("spec.activeDeadlineSeconds", json!(0))], Some(("spec.activeDeadlineSeconds", INV, "Invalid value: 0: must be between 1 and 2147483647, inclusive"))),
        case("activeDeadline ok", p, vec![("spec.activeDeadlineSeconds", json!(60))], None),
        case("hostAliases ip", p, vec![("spec.hostAliases", json!([{"ip": "999.1.1.1", "hostnames": ["a"]}]))],
            Some(("spec.hostAliases[0].ip", INV, "Invalid value: \"999.1.1.1\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))),
        case("hostAliases ok", p, vec![("spec.hostAliases", json!([{"ip": "10.0.0.1", "hostnames": ["db.local"]}, {"ip": "::1", "hostnames": ["v6"]}]))], None),
        case("toleration exists with value", p, vec![("spec.tolerations", json!([{"key": "k", "operator": "Exists", "value": "v"}]))],
            Some(("spec.tolerations[0].operator", INV, "Invalid value: \"v\": value must be empty when `operator` is 'Exists'"))),
        case("toleration seconds needs NoExecute", p, vec![("spec.tolerations", json!([{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]))],
            Some(("spec.tolerations[0].effect", INV, "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"))),
        case("nodeSelector bad value", p, vec![("spec.nodeSelector", json!({"disk": "ssd!"}))], Some(("spec.nodeSelector", INV, "Invalid value: \"ssd!\""))),
        case("serviceAccountName bad", p, vec![("spec.serviceAccountName", json!("Bad_SA"))], Some(("spec.serviceAccountName", INV, "Invalid value: \"Bad_SA\""))),
    ]);
}

#[test]
fn pod_volume_rules() {
    let p = kinds::POD;
    run(vec![
        case(
            "volume name dup",
            p,
            vec![("spec.volumes[1]", json!({"name": "data", "emptyDir": {}}))],
            Some(("spec.volumes[1].name", DUP, "Duplicate value: \"data\"")),
        ),
        case(
            "volume name invalid",
            p,
            vec![("spec.volumes[1]", json!({"name": "Data_2", "emptyDir": {}}))],
            Some(("spec.volumes[1].name", INV, "Invalid value: \"Data_2\"")),
        ),
        case(
            "two sources",
            p,
            vec![("spec.volumes[0].hostPath", json!({"path": "/tmp"}))],
            Some((
                "spec.volumes[0].hostPath",
                FORB,
                "Forbidden: may not specify more than 1 volume type",
            )),
        ),
        case(
            "no source defaults to emptyDir",
            p,
            vec![("spec.volumes[0]", json!({"name": "data"}))],
            None,
        ),
        case(
            "mount unknown volume",
            p,
            vec![("spec.containers[0].volumeMounts[0].name", json!("nope"))],
            Some((
                "spec.containers[0].volumeMounts[0].name",
                "FieldValueNotFound",
                "Not found: \"nope\"",
            )),
        ),
        case(
            "mountPath required",
            p,
            vec![("spec.containers[0].volumeMounts[0].mountPath", json!(""))],
            Some((
                "spec.containers[0].volumeMounts[0].mountPath",
                REQ,
                "Required value",
            )),
        ),
        case(
            "mountPath unique",
            p,
            vec![(
                "spec.containers[0].volumeMounts[1]",
                json!({"name": "data", "mountPath": "/data"}),
            )],
            Some((
                "spec.containers[0].volumeMounts[1].mountPath",
                INV,
                "Invalid value: \"/data\": must be unique",
            )),
        ),
        case(
            "subPath backstep",
            p,
            vec![(
                "spec.containers[0].volumeMounts[0].subPath",
                json!("a/../../etc"),
            )],
            Some((
                "spec.containers[0].volumeMounts[0].subPath",
                INV,
                "Invalid value: \"a/../../etc\": must not contain '..'",
            )),
        ),
        case(
            "subPath absolute",
            p,
            vec![("spec.containers[0].volumeMounts[0].subPath", json!("/etc"))],
            Some((
                "spec.containers[0].volumeMounts[0].subPath",
                INV,
                "Invalid value: \"/etc\": must be a relative path",
            )),
        ),
        case(
            "subPath ok",
            p,
            vec![(
                "spec.containers[0].volumeMounts[0].subPath",
                json!("logs/app"),
            )],
            None,
        ),
        case(
            "hostPath type enum",
            p,
            vec![(
                "spec.volumes[0]",
                json!({"name": "data", "hostPath": {"path": "/x", "type": "Folder"}}),
            )],
            Some((
                "spec.volumes[0].hostPath.type",
                NSUP,
                "Unsupported value: \"Folder\"",
            )),
        ),
        case(
            "configMap name required",
            p,
            vec![("spec.volumes[0]", json!({"name": "data", "configMap": {}}))],
            Some(("spec.volumes[0].configMap.name", REQ, "Required value")),
        ),
        case(
            "secret mode range",
            p,
            vec![(
                "spec.volumes[0]",
                json!({"name": "data", "secret": {"secretName": "s", "defaultMode": 4096}}),
            )],
            Some((
                "spec.volumes[0].secret.defaultMode",
                INV,
                "Invalid value: 4096: must be a number between 0 and 0777 (octal), both inclusive",
            )),
        ),
        case(
            "item path absolute",
            p,
            vec![(
                "spec.volumes[0]",
                json!({"name": "data", "configMap": {"name": "c", "items": [{"key": "k", "path": "/abs"}]}}),
            )],
            Some((
                "spec.volumes[0].configMap.items[0].path",
                INV,
                "Invalid value: \"/abs\": must be a relative path",
            )),
        ),
        case(
            "token expiration short",
            p,
            vec![(
                "spec.volumes[0]",
                json!({"name": "data", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 60}}]}}),
            )],
            Some((
                "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds",
                INV,
                "Invalid value: 60: may not specify a duration less than 10 minutes",
            )),
        ),
    ]);
}

#[test]
fn workload_rules() {
    let d = kinds::DEPLOYMENT;
    run(vec![
        case("valid deployment", d, vec![], None),
        case("valid replicaset", kinds::REPLICA_SET, vec![], None),
        case("valid daemonset", kinds::DAEMON_SET, vec![], None),
        case("valid statefulset", kinds::STATEFUL_SET, vec![("spec.serviceName", json!("web"))], None),
        case("selector required", d, vec![("spec.selector", Value::Null)], Some(("spec.selector", REQ, "Required value"))),
        case("selector empty", d, vec![("spec.selector", json!({}))], Some(("spec.selector", INV,
            "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"))),
        case("selector mismatch", d, vec![("spec.selector.matchLabels.app", json!("api"))], Some(("spec.template.metadata.labels", INV,
            "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"))),
        case("selector expressions match", d, vec![("spec.selector", json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}))], None),
        case("selector bad operator", d, vec![("spec.selector", json!({"matchExpressions": [{"key": "app", "operator": "Like", "values": ["w"]}]}))],
            Some(("spec.selector.matchExpressions[0].operator", INV, "Invalid value: \"Like\": not a valid selector operator"))),
        case("replicas negative", d, vec![("spec.replicas", json!(-1))], Some(("spec.replicas", INV, "Invalid value: -1: must be greater than or equal to 0"))),
        case("template restartPolicy", d, vec![("spec.template.spec.restartPolicy", json!("Never"))], Some(("spec.template.spec.restartPolicy", NSUP, "Unsupported value: \"Never\": supported values: \"Always\""))),
        case("template container path", d, vec![("spec.template.spec.containers[0].image", json!(""))], Some(("spec.template.spec.containers[0].image", REQ, "Required value"))),
        case("strategy type", d, vec![("spec.strategy", json!({"type": "BlueGreen"}))], Some(("spec.strategy.type", NSUP, "Unsupported value: \"BlueGreen\": supported values: \"Recreate\", \"RollingUpdate\""))),
        case("recreate with rollingUpdate", d, vec![("spec.strategy", json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}))],
            Some(("spec.strategy.rollingUpdate", FORB, "Forbidden: may not be specified when strategy `type` is 'Recreate'"))),
        case("both zero", d, vec![("spec.strategy", json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}))],
            Some(("spec.strategy.rollingUpdate.maxUnavailable", INV, "Invalid value: 0: may not be 0 when `maxSurge` is 0"))),
        case("percent over 100", d, vec![("spec.strategy", json!({"rollingUpdate": {"maxSurge": "150%"}}))], Some(("spec.strategy.rollingUpdate.maxSurge", INV, "Invalid value: \"150%\": must not be greater than 100%"))),
        case("progress deadline", d, vec![("spec.minReadySeconds", json!(700))], Some(("spec.progressDeadlineSeconds", INV, "Invalid value: 600: must be greater than minReadySeconds"))),
        case("ds strategy", kinds::DAEMON_SET, vec![("spec.updateStrategy", json!({"type": "Sometimes"}))], Some(("spec.updateStrategy.type", NSUP, "Unsupported value: \"Sometimes\""))),
        case("ss pod management", kinds::STATEFUL_SET, vec![("spec.podManagementPolicy", json!("Random"))], Some(("spec.podManagementPolicy", NSUP, "Unsupported value: \"Random\": supported values: \"OrderedReady\", \"Parallel\""))),
        case("ss claim templates unsupported", kinds::STATEFUL_SET, vec![("spec.volumeClaimTemplates", json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]))],
            Some(("spec.volumeClaimTemplates", FORB, "Forbidden: volumeClaimTemplates are not supported"))),
        case("ss partition negative", kinds::STATEFUL_SET, vec![("spec.updateStrategy", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}))],
            Some(("spec.updateStrategy.rollingUpdate.partition", INV, "Invalid value: -1"))),
    ]);
}

#[test]
fn replication_controller_rules() {
    let rc = kinds::REPLICATION_CONTROLLER;
    run(vec![
        case("valid", rc, vec![], None),
        case("selector from template labels", rc, vec![("spec.selector", json!({}))], None),
        case("selector required without template labels", rc,
            vec![("spec.selector", Value::Null), ("spec.template.metadata.labels", Value::Null)],
            Some(("spec.selector", REQ, "Required value"))),
        case("template required", rc, vec![("spec.template", Value::Null)], Some(("spec.template", REQ, "Required value"))),
        case("selector mismatch", rc, vec![("spec.selector", json!({"app": "api"}))], Some(("spec.template.metadata.labels", INV,
            "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"))),
        case("selector subset matches", rc, vec![("spec.template.metadata.labels.tier", json!("fe"))], None),
        case("restartPolicy", rc, vec![("spec.template.spec.restartPolicy", json!("Never"))], Some(("spec.template.spec.restartPolicy", NSUP,
            "Unsupported value: \"Never\": supported values: \"Always\""))),
        case("activeDeadlineSeconds", rc, vec![("spec.template.spec.activeDeadlineSeconds", json!(5))], Some(("spec.template.spec.activeDeadlineSeconds", INV,
            "Invalid value: 5: activeDeadlineSeconds in ReplicationController is not Supported"))),
        case("replicas negative", rc, vec![("spec.replicas", json!(-1))], Some(("spec.replicas", INV, "Invalid value: -1: must be greater than or equal to 0"))),
        case("minReadySeconds negative", rc, vec![("spec.minReadySeconds", json!(-3))], Some(("spec.minReadySeconds", INV, "Invalid value: -3: must be greater than or equal to 0"))),
        case("template container", rc, vec![("spec.template.spec.containers[0].image", json!(""))], Some(("spec.template.spec.containers[0].image", REQ, "Required value"))),
    ]);
}

#[test]
fn replication_controller_selector_may_change() {
    let rc = kinds::REPLICATION_CONTROLLER;
    let mut old = base(rc);
    apply_defaults(rc, &mut old);
    let mut new = old.clone();
    new["spec"]["selector"] = json!({"app": "web", "tier": "fe"});
    new["spec"]["template"]["metadata"]["labels"] = json!({"app": "web", "tier": "fe"});
    assert_eq!(validate_update(rc, &old, &new), vec![]);
}

#[test]
fn batch_rules() {
    let j = kinds::JOB;
    let c = kinds::CRON_JOB;
    run(vec![
        case("valid job", j, vec![], None),
        case("job default restartPolicy", j, vec![("spec.template.spec.restartPolicy", Value::Null)],
            Some(("spec.template.spec.restartPolicy", NSUP, "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""))),
        case("job negative completions", j, vec![("spec.completions", json!(-1))], Some(("spec.completions", INV, "Invalid value: -1: must be greater than or equal to 0"))),
        case("job negative parallelism", j, vec![("spec.parallelism", json!(-2))], Some(("spec.parallelism", INV, "Invalid value: -2"))),
        case("job indexed needs completions", j, vec![("spec.completionMode", json!("Indexed")), ("spec.parallelism", json!(2))], Some(("spec.completions", REQ, "Required value: when completion mode is Indexed"))),
        case("job user selector not generated", j, vec![("spec.selector", json!({"matchLabels": {"app": "x"}})), ("spec.template.metadata", json!({"labels": {"app": "x"}}))],
            Some(("spec.selector", INV, "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", \"batch.kubernetes.io/controller-uid\":"))),
        case("job manual selector ok", j, vec![("spec.manualSelector", json!(true)), ("spec.selector", json!({"matchLabels": {"app": "x"}})), ("spec.template.metadata", json!({"labels": {"app": "x"}}))], None),
        case("job long name label", j, vec![("metadata.name", json!("a".repeat(64)))], Some(("spec.template.metadata.labels", INV, "Invalid value: \"aaaa"))),
        case("valid cronjob", c, vec![], None),
        case("cron descriptor", c, vec![("spec.schedule", json!("@hourly"))], None),
        case("cron names and ranges", c, vec![("spec.schedule", json!("0 9-17/2 * jan-jun mon-fri"))], None),
        case("cron schedule required", c, vec![("spec.schedule", json!(""))], Some(("spec.schedule", REQ, "Required value"))),
        case("cron bad schedule", c, vec![("spec.schedule", json!("61 * * * *"))], Some(("spec.schedule", INV, "Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"))),
        case("cron field count", c, vec![("spec.schedule", json!("* * * *"))], Some(("spec.schedule", INV, "Invalid value: \"* * * *\": expected exactly 5 fields, found 4: [* * * *]"))),
        case("cron TZ forbidden", c, vec![("spec.schedule", json!("TZ=UTC 0 * * * *"))], Some(("spec.schedule", INV, "Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))),
        case("cron TZ with timeZone", c, vec![("spec.schedule", json!("TZ=UTC 0 * * * *")), ("spec.timeZone", json!("UTC"))], Some(("spec.schedule", INV, "Invalid value: \"TZ=UTC 0 * * * *\": cannot use both timeZone field and TZ or CRON_TZ in schedule"))),
        case("cron timeZone bad", c, vec![("spec.timeZone", json!("Mars/Base One"))], Some(("spec.timeZone", INV, "Invalid value: \"Mars/Base One\": unknown time zone Mars/Base One"))),
        case("cron timeZone local", c, vec![("spec.timeZone", json!("Local"))], Some(("spec.timeZone", INV, "Invalid value: \"Local\": timeZone must be an explicit time zone"))),
        case("cron timeZone utc", c, vec![("spec.timeZone", json!("UTC"))], None),
        case("cron concurrency", c, vec![("spec.concurrencyPolicy", json!("Sometimes"))], Some(("spec.concurrencyPolicy", NSUP, "Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""))),
        case("cron name too long", c, vec![("metadata.name", json!("c".repeat(53)))], Some(("metadata.name", INV, "Invalid value: \"ccc"))),
        case("cron template restartPolicy", c, vec![("spec.jobTemplate.spec.template.spec.restartPolicy", json!("Always"))],
            Some(("spec.jobTemplate.spec.template.spec.restartPolicy", NSUP, "Unsupported value: \"Always\""))),
    ]);
}

#[test]
fn config_service_and_misc_rules() {
    let cm = kinds::CONFIG_MAP;
    let s = kinds::SECRET;
    let svc = kinds::SERVICE;
    run(vec![
        case("valid configmap", cm, vec![], None),
        case("configmap key invalid", cm, vec![("data", json!({"a b": "x"}))], Some(("data[a b]", INV, "Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'"))),
        case("configmap key dotdot", cm, vec![("data", json!({"..": "x"}))], Some(("data[..]", INV, "Invalid value: \"..\": must not be '..'"))),
        case("configmap too big", cm, vec![("data", json!({"big": "x".repeat(1024 * 1024 + 1)}))], Some(("", "FieldValueTooLong", "Too long: may not be more than 1048576 bytes"))),
        case("valid secret", s, vec![], None),
        case("secret bad base64", s, vec![("data", json!({"k": "not base64!"}))], Some(("data[k]", INV, "Invalid value: \"not base64!\": illegal base64 data at input byte 3"))),
        case("tls secret needs keys", s, vec![("type", json!("kubernetes.io/tls"))], Some(("data[tls.key]", REQ, "Required value"))),
        case("valid service", svc, vec![], None),
        case("service ports required", svc, vec![("spec.ports", json!([]))], Some(("spec.ports", REQ, "Required value"))),
        case("headless without ports ok", svc, vec![("spec.ports", json!([])), ("spec.clusterIP", json!("None"))], None),
        case("service port range", svc, vec![("spec.ports[0].port", json!(0))], Some(("spec.ports[0].port", INV, "Invalid value: 0: must be between 1 and 65535, inclusive"))),
        case("service multi port needs names", svc, vec![("spec.ports[1]", json!({"port": 443}))], Some(("spec.ports[0].name", REQ, "Required value"))),
        case("service type", svc, vec![("spec.type", json!("Internal"))], Some(("spec.type", NSUP, "Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""))),
        case("service externalName required", svc, vec![("spec.type", json!("ExternalName"))], Some(("spec.externalName", REQ, "Required value"))),
        case("service clusterIP", svc, vec![("spec.clusterIP", json!("10.0.0.300"))], Some(("spec.clusterIPs[0]", INV, "Invalid value: \"10.0.0.300\""))),
        case("valid namespace", kinds::NAMESPACE, vec![], None),
        case("lease duration", kinds::LEASE, vec![("spec.leaseDurationSeconds", json!(0))], Some(("spec.leaseDurationSeconds", INV, "Invalid value: 0: must be greater than 0"))),
        case("valid event", kinds::EVENT, vec![], None),
        case("event namespace mismatch", kinds::EVENT, vec![("involvedObject.namespace", json!("other"))], Some(("involvedObject.namespace", INV, "Invalid value: \"other\": does not match event.namespace"))),
        case("valid podpreset", kinds::POD_PRESET, vec![], None),
        case("podpreset mount unknown volume", kinds::POD_PRESET, vec![("spec.volumeMounts[0].name", json!("nope"))], Some(("spec.volumeMounts[0].name", "FieldValueNotFound", "Not found: \"nope\""))),
        case("podpreset env name", kinds::POD_PRESET, vec![("spec.env[0].name", json!(""))], Some(("spec.env[0].name", REQ, "Required value"))),
        case("podpreset empty", kinds::POD_PRESET, vec![("spec", json!({"selector": {}}))], Some(("spec.volumes.env.envFrom.volumeMounts", REQ, "Required value: must specify at least one"))),
    ]);
}

fn created(gvk: Gvk, edits: Vec<(&str, Value)>) -> Value {
    let mut obj = base(gvk);
    for (p, v) in edits {
        set(&mut obj, p, v);
    }
    apply_defaults(gvk, &mut obj);
    if gvk == kinds::POD {
        admit_pod(&mut obj);
    }
    prepare_for_create(gvk, &mut obj);
    obj
}

fn update_causes(gvk: Gvk, old: &Value, edits: Vec<(&str, Value)>) -> Vec<crate::FieldCause> {
    let mut new = old.clone();
    for (p, v) in edits {
        set(&mut new, p, v);
    }
    apply_defaults(gvk, &mut new);
    validate_update(gvk, old, &new)
}

#[test]
fn pod_update_immutability() {
    let old = created(kinds::POD, vec![("spec.activeDeadlineSeconds", json!(100))]);
    let ok = |edits: Vec<(&str, Value)>| {
        let c = update_causes(kinds::POD, &old, edits);
        assert!(c.is_empty(), "{c:?}");
    };
    ok(vec![]);
    ok(vec![("spec.containers[0].image", json!("nginx:1.26"))]);
    ok(vec![("metadata.labels", json!({"new": "label"}))]);
    ok(vec![("spec.activeDeadlineSeconds", json!(50))]);
    let mut tols = old["spec"]["tolerations"].clone();
    if let Some(t) = tols.as_array_mut() {
        t.push(json!({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}));
    }
    ok(vec![("spec.tolerations", tols)]);

    let first =
        |edits: Vec<(&str, Value)>| update_causes(kinds::POD, &old, edits).into_iter().next();
    let c = first(vec![("spec.restartPolicy", json!("Never"))])
        .expect("restartPolicy change must fail");
    assert_eq!((c.field.as_str(), c.reason), ("spec", FORB));
    assert!(
        c.message.starts_with(
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
        ),
        "{}",
        c.message
    );
    assert!(c.message.contains("spec.restartPolicy"), "{}", c.message);
    let c = first(vec![(
        "spec.containers[0].ports[0].containerPort",
        json!(8080),
    )])
    .expect("port change must fail");
    assert_eq!(c.field, "spec");
    let c = first(vec![("spec.activeDeadlineSeconds", json!(200))]).expect("increase must fail");
    assert_eq!(
        c.message,
        "Invalid value: 200: must be less than or equal to previous value"
    );
    let c = first(vec![("spec.tolerations", json!([]))]).expect("removing tolerations must fail");
    assert_eq!(
        c.message,
        "Forbidden: existing toleration can not be modified except its tolerationSeconds"
    );
    let c = first(vec![("spec.containers[0].image", json!(""))]).expect("empty image must fail");
    assert_eq!(
        (c.field.as_str(), c.reason),
        ("spec.containers[0].image", REQ)
    );

    let gated = created(
        kinds::POD,
        vec![(
            "spec.schedulingGates",
            json!([{"name": "a.io/x"}, {"name": "b.io/y"}]),
        )],
    );
    assert!(update_causes(
        kinds::POD,
        &gated,
        vec![("spec.schedulingGates", json!([{"name": "b.io/y"}]))]
    )
    .is_empty());
    let c = update_causes(
        kinds::POD,
        &gated,
        vec![("spec.schedulingGates", json!([{"name": "c.io/z"}]))],
    );
    assert!(
        c.iter()
            .any(|c| c.field == "spec.schedulingGates" && c.reason == FORB),
        "{c:?}"
    );
}

#[test]
fn workload_update_rules() {
    let d = created(kinds::DEPLOYMENT, vec![]);
    assert!(update_causes(kinds::DEPLOYMENT, &d, vec![("spec.replicas", json!(5))]).is_empty());
    let c = update_causes(
        kinds::DEPLOYMENT,
        &d,
        vec![
            ("spec.selector.matchLabels", json!({"app": "web", "v": "2"})),
            (
                "spec.template.metadata.labels",
                json!({"app": "web", "v": "2"}),
            ),
        ],
    );
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].message, "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");

    let ss = created(
        kinds::STATEFUL_SET,
        vec![("spec.serviceName", json!("web"))],
    );
    assert!(update_causes(kinds::STATEFUL_SET, &ss, vec![("spec.replicas", json!(3))]).is_empty());
    let c = update_causes(
        kinds::STATEFUL_SET,
        &ss,
        vec![("spec.serviceName", json!("other"))],
    );
    assert!(
        c.iter().any(|c| c.field == "spec"
            && c.reason == FORB
            && c.message.contains("'replicas', 'ordinals', 'template'")),
        "{c:?}"
    );

    let job = created(kinds::JOB, vec![]);
    assert!(update_causes(kinds::JOB, &job, vec![("spec.suspend", json!(true))]).is_empty());
    let c = update_causes(
        kinds::JOB,
        &job,
        vec![("spec.template.spec.containers[0].image", json!("alpine"))],
    );
    assert!(
        c.iter()
            .any(|c| c.field == "spec.template" && c.message.ends_with("field is immutable")),
        "{c:?}"
    );
    let c = update_causes(kinds::JOB, &job, vec![("spec.completions", json!(3))]);
    assert!(c.iter().any(|c| c.field == "spec.completions"), "{c:?}");
}

#[test]
fn config_update_rules() {
    let cm = created(kinds::CONFIG_MAP, vec![("immutable", json!(true))]);
    assert!(update_causes(
        kinds::CONFIG_MAP,
        &cm,
        vec![("metadata.labels", json!({"a": "b"}))]
    )
    .is_empty());
    let c = update_causes(
        kinds::CONFIG_MAP,
        &cm,
        vec![("data", json!({"app.conf": "x=2"}))],
    );
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (c[0].field.as_str(), c[0].message.as_str()),
        (
            "data",
            "Forbidden: field is immutable when `immutable` is set"
        )
    );
    let c = update_causes(kinds::CONFIG_MAP, &cm, vec![("immutable", json!(false))]);
    assert!(c.iter().any(|c| c.field == "immutable"), "{c:?}");
    let mutable = created(kinds::CONFIG_MAP, vec![]);
    assert!(update_causes(
        kinds::CONFIG_MAP,
        &mutable,
        vec![("data", json!({"k": "v"}))]
    )
    .is_empty());
    let secret = created(kinds::SECRET, vec![]);
    let c = update_causes(
        kinds::SECRET,
        &secret,
        vec![
            ("type", json!("kubernetes.io/basic-auth")),
            ("data", json!({"username": "dQ=="})),
        ],
    );
    assert!(
        c.iter()
            .any(|c| c.field == "type" && c.message.ends_with("field is immutable")),
        "{c:?}"
    );
    let svc = created(
        kinds::SERVICE,
        vec![("spec.clusterIP", json!("10.96.0.10"))],
    );
    let c = update_causes(
        kinds::SERVICE,
        &svc,
        vec![("spec.clusterIP", json!("10.96.0.11"))],
    );
    assert!(c.iter().any(|c| c.field == "spec.clusterIPs[0]"), "{c:?}");
    let pp = created(kinds::POD_PRESET, vec![]);
    let c = update_causes(
        kinds::POD_PRESET,
        &pp,
        vec![("spec.env[0].value", json!("other"))],
    );
    assert!(
        c.iter()
            .any(|c| c.field == "spec" && c.message.ends_with("field is immutable")),
        "{c:?}"
    );
}

#[test]
fn unknown_field_detection() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"any": "thing"}, "bogus": 1},
        "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "imagee": "y", "ports": [{"containerPort": 1, "hostport": 2}]}],
                 "volumes": [{"name": "v", "emptyDir": {"medium": "", "sizeLimitt": "1Gi"}}],
                 "nodeSelector": {}, "affinity": null, "extra": {}}});
    assert_eq!(
        unknown_fields(kinds::POD, &pod),
        vec![
            "metadata.bogus",
            "spec.containers[1].imagee",
            "spec.containers[1].ports[0].hostport",
            "spec.volumes[0].emptyDir.sizeLimitt"
        ]
    );
    let valid = created(kinds::DEPLOYMENT, vec![]);
    assert!(unknown_fields(kinds::DEPLOYMENT, &valid).is_empty());
    let mut dep = valid.clone();
    set(
        &mut dep,
        "spec.template.spec.containers[0].resources.limit",
        json!({"cpu": "1"}),
    );
    set(&mut dep, "spec.strategy.rollingUpdate.maxSurgee", json!(1));
    assert_eq!(
        unknown_fields(kinds::DEPLOYMENT, &dep),
        vec![
            "spec.template.spec.containers[0].resources.limit",
            "spec.strategy.rollingUpdate.maxSurgee"
        ]
    );
    let mut pp = created(kinds::POD_PRESET, vec![]);
    assert!(
        unknown_fields(kinds::POD_PRESET, &pp).is_empty(),
        "{:?}",
        unknown_fields(kinds::POD_PRESET, &pp)
    );
    set(&mut pp, "spec.volumeMounts[0].mountPth", json!("/x"));
    set(&mut pp, "spec.envv", json!([1]));
    assert_eq!(
        unknown_fields(kinds::POD_PRESET, &pp),
        vec!["spec.volumeMounts[0].mountPth", "spec.envv"]
    );
    let cj = json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "b", "cmd": ["x"]}]}}}}}});
    assert_eq!(
        unknown_fields(kinds::CRON_JOB, &cj),
        vec!["spec.jobTemplate.spec.template.spec.containers[0].cmd"]
    );
}

#[test]
fn malformed_input_never_panics() {
    let all = [
        kinds::POD,
        kinds::NODE,
        kinds::NAMESPACE,
        kinds::CONFIG_MAP,
        kinds::SECRET,
        kinds::SERVICE_ACCOUNT,
        kinds::EVENT,
        kinds::SERVICE,
        kinds::ENDPOINTS,
        kinds::EVENTS_V1_EVENT,
        kinds::LEASE,
        kinds::DEPLOYMENT,
        kinds::REPLICA_SET,
        kinds::REPLICATION_CONTROLLER,
        kinds::DAEMON_SET,
        kinds::STATEFUL_SET,
        kinds::CONTROLLER_REVISION,
        kinds::JOB,
        kinds::CRON_JOB,
        kinds::POD_PRESET,
    ];
    let weird = [
        json!(null),
        json!("pod"),
        json!([1, 2]),
        json!({"metadata": "x", "spec": 5, "data": [1], "type": 3}),
        json!({"metadata": {"name": 7, "labels": "a", "annotations": [1]}, "spec": {"containers": {"a": 1}, "volumes": "v",
               "template": [], "selector": "s", "strategy": 1, "updateStrategy": {"type": 9, "rollingUpdate": "x"},
               "schedule": 5, "jobTemplate": {"spec": {"template": {"spec": {"containers": [7, {"ports": "p", "env": {"a": 1},
               "resources": {"limits": {"cpu": {}}, "requests": [1]}, "livenessProbe": "p", "lifecycle": {"preStop": 1}}]}}}},
               "ports": [1, {"port": "x", "targetPort": {}}], "tolerations": [1], "hostAliases": "h", "dnsConfig": 3}}),
        json!({"spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": "80", "hostPort": 1.5}],
               "volumeMounts": [{"name": 1, "mountPath": [], "subPath": {}}], "env": [{"name": "X", "valueFrom": 1}]}],
               "volumes": [{"name": "v", "secret": "s", "projected": {"sources": [1, {"serviceAccountToken": 2}]}}]}}),
    ];
    for gvk in all {
        for w in &weird {
            let mut obj = w.clone();
            apply_defaults(gvk, &mut obj);
            admit_pod(&mut obj);
            prepare_for_create(gvk, &mut obj);
            let _ = validate_create(gvk, &obj);
            let _ = validate_update(gvk, w, &obj);
            let _ = validate_update(gvk, &obj, w);
            let _ = unknown_fields(gvk, w);
        }
    }
}
