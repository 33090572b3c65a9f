use super::*;
use serde_json::{json, Value};

fn create(gvk: Gvk, mut obj: Value) -> Value {
    apply_defaults(gvk, &mut obj);
    if gvk == kinds::POD {
        admit_pod(&mut obj);
    }
    prepare_for_create(gvk, &mut obj);
    obj
}

#[test]
fn minimal_pod_matches_kubernetes() {
    let pod = create(
        kinds::POD,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "default"},
               "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}),
    );
    let want = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {
            "containers": [{
                "image": "nginx", "imagePullPolicy": "Always", "name": "nginx", "resources": {},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
            "serviceAccount": "default", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ]
        },
        "status": {"phase": "Pending", "qosClass": "BestEffort"}
    });
    assert_eq!(
        pod,
        want,
        "{}",
        serde_json::to_string_pretty(&pod).unwrap_or_default()
    );
}

#[test]
fn minimal_deployment_matches_kubernetes() {
    let d = create(
        kinds::DEPLOYMENT,
        json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}}}),
    );
    let want = json!({"metadata": {"name": "web"}, "spec": {
        "progressDeadlineSeconds": 600, "replicas": 1, "revisionHistoryLimit": 10,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "containers": [{"image": "nginx:1.25", "imagePullPolicy": "IfNotPresent", "name": "nginx",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "terminationGracePeriodSeconds": 30}}},
        "status": {}});
    assert_eq!(
        d,
        want,
        "{}",
        serde_json::to_string_pretty(&d).unwrap_or_default()
    );
}

#[test]
fn minimal_replication_controller_matches_kubernetes() {
    let rc = create(
        kinds::REPLICATION_CONTROLLER,
        json!({"metadata": {"name": "web"}, "spec": {
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}}),
    );
    let want = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {
        "replicas": 1, "selector": {"app": "web"},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "containers": [{"image": "nginx:1.25", "imagePullPolicy": "IfNotPresent", "name": "nginx",
                            "resources": {}, "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "terminationGracePeriodSeconds": 30}}},
        "status": {"replicas": 0}});
    assert_eq!(
        rc,
        want,
        "{}",
        serde_json::to_string_pretty(&rc).unwrap_or_default()
    );
}

#[test]
fn replication_controller_keeps_its_own_selector_and_labels() {
    let rc = create(
        kinds::REPLICATION_CONTROLLER,
        json!({"metadata": {"name": "web", "labels": {"team": "a"}}, "spec": {
            "replicas": 0, "selector": {"app": "web"},
            "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}, "spec": {"containers": []}}}}),
    );
    assert_eq!(rc["metadata"]["labels"], json!({"team": "a"}));
    assert_eq!(rc["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(rc["spec"]["replicas"], json!(0));
    // Without template labels nothing is derived, and a missing template stays missing.
    let bare = create(
        kinds::REPLICATION_CONTROLLER,
        json!({"metadata": {"name": "bare"}, "spec": {}}),
    );
    assert_eq!(bare["spec"], json!({"replicas": 1}));
    assert!(bare["metadata"].get("labels").is_none());
}

#[test]
fn qos_classes() {
    let pod = |resources: Vec<Value>| {
        let containers: Vec<Value> = resources
            .into_iter()
            .enumerate()
            .map(|(i, r)| json!({"name": format!("c{i}"), "image": "x", "resources": r}))
            .collect();
        let p = create(
            kinds::POD,
            json!({"metadata": {"name": "p"}, "spec": {"containers": containers}}),
        );
        p["status"]["qosClass"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(pod(vec![json!({})]), "BestEffort");
    // Limits alone are copied to requests, so the pod is Guaranteed.
    assert_eq!(
        pod(vec![json!({"limits": {"cpu": "1", "memory": "1Gi"}})]),
        "Guaranteed"
    );
    assert_eq!(
        pod(vec![
            json!({"requests": {"cpu": "1000m", "memory": "1073741824"}, "limits": {"cpu": "1", "memory": "1Gi"}})
        ]),
        "Guaranteed"
    );
    assert_eq!(pod(vec![json!({"requests": {"cpu": "100m"}})]), "Burstable");
    assert_eq!(pod(vec![json!({"limits": {"cpu": "1"}})]), "Burstable");
    assert_eq!(
        pod(vec![
            json!({"limits": {"cpu": "1", "memory": "1Gi"}}),
            json!({})
        ]),
        "Burstable"
    );
    assert_eq!(pod(vec![json!({"requests": {"cpu": "0"}})]), "BestEffort");
}

#[test]
fn limits_copied_to_requests_only_for_pods() {
    let p = create(
        kinds::POD,
        json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Mi"}}}]}}),
    );
    assert_eq!(
        p["spec"]["containers"][0]["resources"]["requests"],
        json!({"memory": "1Mi", "cpu": "1"})
    );
    let rs = create(
        kinds::REPLICA_SET,
        json!({"metadata": {"name": "r"}, "spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}}]}}}}),
    );
    assert!(rs["spec"]["template"]["spec"]["containers"][0]["resources"]
        .get("requests")
        .is_none());
    assert!(rs["spec"]["template"]["spec"]
        .get("enableServiceLinks")
        .is_none());
}

#[test]
fn probe_volume_and_env_defaults() {
    let p = create(
        kinds::POD,
        json!({"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "a", "image": "x",
            "livenessProbe": {"httpGet": {"port": 8080}},
            "readinessProbe": {"grpc": {"port": 9090}, "periodSeconds": 5},
            "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/stop"}}},
            "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]}],
        "volumes": [{"name": "a"}, {"name": "b", "secret": {"secretName": "s"}},
                    {"name": "c", "configMap": {"name": "c"}}, {"name": "d", "hostPath": {"path": "/d"}},
                    {"name": "e", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
                    {"name": "f", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}}),
    );
    let c = &p["spec"]["containers"][0];
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(c["readinessProbe"]["grpc"]["service"], json!(""));
    assert_eq!(c["readinessProbe"]["periodSeconds"], json!(5));
    assert_eq!(
        c["lifecycle"]["preStop"]["httpGet"]["scheme"],
        json!("HTTP")
    );
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
        json!("v1")
    );
    assert_eq!(
        c["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"],
        json!("0")
    );
    let v = &p["spec"]["volumes"];
    assert_eq!(v[0]["emptyDir"], json!({}));
    assert_eq!(v[1]["secret"]["defaultMode"], json!(420));
    assert_eq!(v[2]["configMap"]["defaultMode"], json!(420));
    assert_eq!(v[3]["hostPath"]["type"], json!(""));
    assert_eq!(v[4]["projected"]["defaultMode"], json!(420));
    assert_eq!(
        v[4]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        json!(3600)
    );
    assert_eq!(
        v[5]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"],
        json!("v1")
    );
}

#[test]
fn admission_keeps_existing_tolerations_and_service_account() {
    let mut p = json!({"spec": {"serviceAccountName": "builder", "containers": [],
        "tolerations": [{"operator": "Exists"}]}});
    admit_pod(&mut p);
    assert_eq!(p["spec"]["serviceAccountName"], json!("builder"));
    assert_eq!(p["spec"]["tolerations"].as_array().map(Vec::len), Some(1));
    let mut p = json!({"spec": {"containers": [], "tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}]}});
    admit_pod(&mut p);
    let tols = p["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(tols.len(), 2);
    assert_eq!(tols[1]["key"], json!("node.kubernetes.io/not-ready"));
}

#[test]
fn workload_defaults() {
    let ds = create(
        kinds::DAEMON_SET,
        json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": []}}}}),
    );
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(ds["spec"]["revisionHistoryLimit"], json!(10));
    assert_eq!(
        ds["status"],
        json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0})
    );
    let ss = create(
        kinds::STATEFUL_SET,
        json!({"metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": []}}}}),
    );
    assert_eq!(ss["spec"]["podManagementPolicy"], json!("OrderedReady"));
    assert_eq!(
        ss["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        ss["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(ss["spec"]["replicas"], json!(1));
    let cj = create(
        kinds::CRON_JOB,
        json!({"metadata": {"name": "c"}, "spec": {"schedule": "* * * * *",
        "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "busybox"}]}}}}}}),
    );
    assert_eq!(cj["spec"]["concurrencyPolicy"], json!("Allow"));
    assert_eq!(cj["spec"]["suspend"], json!(false));
    assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], json!(3));
    assert_eq!(cj["spec"]["failedJobsHistoryLimit"], json!(1));
    let tpl_spec = &cj["spec"]["jobTemplate"]["spec"];
    assert!(
        tpl_spec.get("backoffLimit").is_none(),
        "job defaults do not apply to jobTemplate"
    );
    assert_eq!(
        tpl_spec["template"]["spec"]["dnsPolicy"],
        json!("ClusterFirst")
    );
}

#[test]
fn job_defaults_and_generated_selector() {
    let uid = "0d5f6a3e-1111-2222-3333-444455556666";
    let job = create(
        kinds::JOB,
        json!({"metadata": {"name": "pi", "uid": uid}, "spec": {"template": {"spec": {
        "restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34"}]}}}}),
    );
    let spec = &job["spec"];
    for (k, v) in [
        ("parallelism", json!(1)),
        ("completions", json!(1)),
        ("backoffLimit", json!(6)),
        ("completionMode", json!("NonIndexed")),
        ("suspend", json!(false)),
        ("manualSelector", json!(false)),
        ("podReplacementPolicy", json!("TerminatingOrFailed")),
    ] {
        assert_eq!(spec[k], v, "{k}");
    }
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
    let labels = json!({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
                        "controller-uid": uid, "job-name": "pi"});
    assert_eq!(spec["template"]["metadata"]["labels"], labels);
    assert_eq!(job["metadata"]["labels"], labels);
    assert!(
        crate::validate_create(kinds::JOB, &job).is_empty(),
        "{:?}",
        crate::validate_create(kinds::JOB, &job)
    );
    // Parallelism alone leaves completions unset.
    let j2 = create(
        kinds::JOB,
        json!({"metadata": {"name": "p"}, "spec": {"parallelism": 3, "template": {"spec": {"containers": []}}}}),
    );
    assert!(j2["spec"].get("completions").is_none());
}

#[test]
fn service_secret_namespace_defaults() {
    let svc = create(
        kinds::SERVICE,
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
        "ports": [{"port": 80}, {"port": 443, "targetPort": "https", "name": "https"}]}}),
    );
    assert_eq!(svc["spec"]["type"], json!("ClusterIP"));
    assert_eq!(svc["spec"]["sessionAffinity"], json!("None"));
    assert_eq!(
        svc["spec"]["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(svc["spec"]["ports"][1]["targetPort"], json!("https"));
    assert_eq!(svc["spec"]["internalTrafficPolicy"], json!("Cluster"));
    assert_eq!(svc["spec"]["ipFamilyPolicy"], json!("SingleStack"));
    assert_eq!(svc["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));
    let secret = create(
        kinds::SECRET,
        json!({"metadata": {"name": "s"}, "stringData": {"user": "admin"}, "data": {"a": "Yg=="}}),
    );
    assert_eq!(secret["type"], json!("Opaque"));
    assert_eq!(secret["data"], json!({"a": "Yg==", "user": "YWRtaW4="}));
    assert!(secret.get("stringData").is_none());
    let ns = create(kinds::NAMESPACE, json!({"metadata": {"name": "team-a"}}));
    assert_eq!(
        ns["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "team-a"})
    );
    assert_eq!(ns["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(ns["status"], json!({"phase": "Active"}));
}

#[test]
fn scheduling_gates_add_condition_and_host_network_ports() {
    let p = create(
        kinds::POD,
        json!({"metadata": {"name": "p"}, "spec": {"hostNetwork": true,
        "schedulingGates": [{"name": "example.com/wait"}],
        "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 8080}]}]}}),
    );
    assert_eq!(
        p["status"]["conditions"][0]["reason"],
        json!("SchedulingGated")
    );
    assert_eq!(
        p["spec"]["containers"][0]["ports"][0]["hostPort"],
        json!(8080)
    );
}

#[test]
fn defaults_are_idempotent() {
    let once = create(
        kinds::DEPLOYMENT,
        json!({"metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}),
    );
    let mut twice = once.clone();
    apply_defaults(kinds::DEPLOYMENT, &mut twice);
    assert_eq!(once, twice);
}
