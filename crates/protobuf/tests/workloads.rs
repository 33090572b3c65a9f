//! Workload kinds sent by `kubectl create deployment|job|cronjob` and friends.

mod common;

use common::{assert_json_eq, decode_message, go_meta, labels, s, typed};
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::batch::v1 as batch;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

fn quantity(value: &str) -> Quantity {
    Quantity { string: s(value) }
}

fn int_or_string_int(value: i32) -> IntOrString {
    IntOrString {
        r#type: Some(0),
        int_val: Some(value),
        str_val: s(""),
    }
}

fn int_or_string_str(value: &str) -> IntOrString {
    IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s(value),
    }
}

/// A container as Go's encoder writes it: non-pointer fields present with zero values.
fn go_container(name: &str, image: &str) -> core::Container {
    core::Container {
        name: s(name),
        image: s(image),
        working_dir: s(""),
        resources: Some(core::ResourceRequirements::default()),
        termination_message_path: s(""),
        termination_message_policy: s(""),
        image_pull_policy: s(""),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        ..Default::default()
    }
}

fn go_pod_spec(containers: Vec<core::Container>) -> core::PodSpec {
    core::PodSpec {
        containers,
        restart_policy: s(""),
        dns_policy: s(""),
        service_account_name: s(""),
        service_account: s(""),
        node_name: s(""),
        host_network: Some(false),
        host_pid: Some(false),
        host_ipc: Some(false),
        hostname: s(""),
        subdomain: s(""),
        scheduler_name: s(""),
        ..Default::default()
    }
}

fn web_labels() -> std::collections::BTreeMap<String, String> {
    labels(&[("app", "web")])
}

#[test]
fn deployment_like_kubectl_create_deployment() {
    let mut container = go_container("busybox", "busybox");
    container.ports = vec![core::ContainerPort {
        name: s(""),
        host_port: Some(0),
        container_port: Some(80),
        protocol: s("TCP"),
        host_ip: s(""),
    }];
    container.resources = Some(core::ResourceRequirements {
        limits: [("memory".to_string(), quantity("128Mi"))]
            .into_iter()
            .collect(),
        requests: [("cpu".to_string(), quantity("100m"))]
            .into_iter()
            .collect(),
        claims: vec![],
    });
    container.env = vec![
        core::EnvVar {
            name: s("MODE"),
            value: s("prod"),
            value_from: None,
        },
        core::EnvVar {
            name: s("TOKEN"),
            value: s(""),
            value_from: Some(core::EnvVarSource {
                secret_key_ref: Some(core::SecretKeySelector {
                    local_object_reference: Some(core::LocalObjectReference { name: s("creds") }),
                    key: s("token"),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
        },
    ];
    container.liveness_probe = Some(core::Probe {
        handler: Some(core::ProbeHandler {
            http_get: Some(core::HttpGetAction {
                path: s("/healthz"),
                port: Some(int_or_string_int(80)),
                host: s(""),
                scheme: s("HTTP"),
                http_headers: vec![],
            }),
            ..Default::default()
        }),
        initial_delay_seconds: Some(0),
        timeout_seconds: Some(1),
        period_seconds: Some(10),
        success_threshold: Some(1),
        failure_threshold: Some(3),
        termination_grace_period_seconds: None,
    });
    container.readiness_probe = Some(core::Probe {
        handler: Some(core::ProbeHandler {
            tcp_socket: Some(core::TcpSocketAction {
                port: Some(int_or_string_str("http")),
                host: s(""),
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let mut template_meta = go_meta("", "");
    template_meta.labels = web_labels();
    let mut metadata = go_meta("web", "default");
    metadata.labels = web_labels();
    let deployment = apps::Deployment {
        metadata: Some(metadata),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(2),
            selector: Some(LabelSelector {
                match_labels: web_labels(),
                match_expressions: vec![],
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(template_meta),
                spec: Some(go_pod_spec(vec![container])),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: Some(int_or_string_int(0)),
                    max_surge: Some(int_or_string_str("25%")),
                }),
            }),
            min_ready_seconds: Some(0),
            revision_history_limit: None,
            paused: Some(false),
            progress_deadline_seconds: None,
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            updated_replicas: Some(0),
            ready_replicas: Some(0),
            available_replicas: Some(0),
            unavailable_replicas: Some(0),
            ..Default::default()
        }),
    };
    let json = decode_message("apps/v1", "Deployment", &deployment);
    let expected = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "busybox",
                    "image": "busybox",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "env": [
                        {"name": "MODE", "value": "prod"},
                        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token", "optional": false}}}
                    ],
                    "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "100m"}},
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz", "port": 80, "scheme": "HTTP"},
                        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
                    },
                    "readinessProbe": {"tcpSocket": {"port": "http"}}
                }]}
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
        },
        "status": {}
    });
    assert_json_eq(&json, &expected);
    let from_protobuf: k8s_openapi::api::apps::v1::Deployment = typed(&json);
    let from_json: k8s_openapi::api::apps::v1::Deployment = typed(&expected);
    assert_eq!(from_protobuf, from_json);
}

#[test]
fn job_keeps_backoff_limit_zero() {
    let mut pod_spec = go_pod_spec(vec![go_container("pi", "perl")]);
    pod_spec.restart_policy = s("Never");
    pod_spec.containers[0].command =
        vec!["perl".to_string(), "-e".to_string(), "print 1".to_string()];
    let job = batch::Job {
        metadata: Some(go_meta("pi", "default")),
        spec: Some(batch::JobSpec {
            backoff_limit: Some(0),
            completions: Some(1),
            parallelism: None,
            manual_selector: None,
            template: Some(core::PodTemplateSpec {
                metadata: Some(go_meta("", "")),
                spec: Some(pod_spec),
            }),
            ..Default::default()
        }),
        status: Some(batch::JobStatus {
            active: Some(0),
            succeeded: Some(0),
            failed: Some(0),
            ..Default::default()
        }),
    };
    let json = decode_message("batch/v1", "Job", &job);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default"},
            "spec": {
                "backoffLimit": 0,
                "completions": 1,
                "template": {"metadata": {}, "spec": {
                    "containers": [{"name": "pi", "image": "perl", "command": ["perl", "-e", "print 1"], "resources": {}}],
                    "restartPolicy": "Never"
                }}
            },
            "status": {}
        }),
    );
    let typed: k8s_openapi::api::batch::v1::Job = typed(&json);
    assert_eq!(typed.spec.unwrap().backoff_limit, Some(0));
}

#[test]
fn cronjob_with_job_template_and_suspend_false() {
    let mut pod_spec = go_pod_spec(vec![go_container("tick", "busybox")]);
    pod_spec.restart_policy = s("OnFailure");
    let cron_job = batch::CronJob {
        metadata: Some(go_meta("tick", "default")),
        spec: Some(batch::CronJobSpec {
            schedule: s("*/5 * * * *"),
            time_zone: None,
            starting_deadline_seconds: None,
            concurrency_policy: s("Forbid"),
            suspend: Some(false),
            job_template: Some(batch::JobTemplateSpec {
                metadata: Some(go_meta("tick", "")),
                spec: Some(batch::JobSpec {
                    template: Some(core::PodTemplateSpec {
                        metadata: Some(go_meta("", "")),
                        spec: Some(pod_spec),
                    }),
                    ..Default::default()
                }),
            }),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: None,
        }),
        status: Some(batch::CronJobStatus {
            last_schedule_time: Some(Time {
                seconds: Some(1_700_000_000),
                nanos: Some(999),
            }),
            ..Default::default()
        }),
    };
    let json = decode_message("batch/v1", "CronJob", &cron_job);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "default"},
            "spec": {
                "schedule": "*/5 * * * *",
                "concurrencyPolicy": "Forbid",
                "suspend": false,
                "jobTemplate": {"metadata": {"name": "tick"}, "spec": {"template": {"metadata": {}, "spec": {
                    "containers": [{"name": "tick", "image": "busybox", "resources": {}}],
                    "restartPolicy": "OnFailure"
                }}}},
                "successfulJobsHistoryLimit": 3
            },
            // metav1.Time has second precision: nanos are dropped like Go does.
            "status": {"lastScheduleTime": "2023-11-14T22:13:20Z"}
        }),
    );
    let typed: k8s_openapi::api::batch::v1::CronJob = typed(&json);
    assert_eq!(typed.spec.unwrap().suspend, Some(false));
}

#[test]
fn pod_with_many_fields() {
    let mut container = go_container("app", "nginx:1.27");
    container.security_context = Some(core::SecurityContext {
        run_as_user: Some(0),
        run_as_non_root: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(core::Capabilities {
            add: vec!["NET_ADMIN".to_string()],
            drop: vec!["ALL".to_string()],
        }),
        ..Default::default()
    });
    container.volume_mounts = vec![core::VolumeMount {
        name: s("data"),
        read_only: Some(false),
        mount_path: s("/data"),
        sub_path: s(""),
        ..Default::default()
    }];
    container.lifecycle = Some(core::Lifecycle {
        pre_stop: Some(core::LifecycleHandler {
            exec: Some(core::ExecAction {
                command: vec!["sleep".to_string(), "1".to_string()],
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let mut spec = go_pod_spec(vec![container]);
    spec.init_containers = vec![go_container("init", "busybox")];
    spec.volumes = vec![
        core::Volume {
            name: s("data"),
            volume_source: Some(core::VolumeSource {
                empty_dir: Some(core::EmptyDirVolumeSource {
                    medium: s("Memory"),
                    size_limit: Some(quantity("1Gi")),
                }),
                ..Default::default()
            }),
        },
        core::Volume {
            name: s("cfg"),
            volume_source: Some(core::VolumeSource {
                config_map: Some(core::ConfigMapVolumeSource {
                    local_object_reference: Some(core::LocalObjectReference {
                        name: s("settings"),
                    }),
                    items: vec![],
                    default_mode: Some(0o644),
                    optional: None,
                }),
                ..Default::default()
            }),
        },
    ];
    spec.termination_grace_period_seconds = Some(0);
    spec.active_deadline_seconds = None;
    spec.node_selector = labels(&[("disk", "ssd")]);
    spec.automount_service_account_token = Some(false);
    spec.tolerations = vec![core::Toleration {
        key: s("node.kubernetes.io/not-ready"),
        operator: s("Exists"),
        value: s(""),
        effect: s("NoExecute"),
        toleration_seconds: Some(300),
    }];
    spec.affinity = Some(core::Affinity {
        node_affinity: Some(core::NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(core::NodeSelector {
                node_selector_terms: vec![core::NodeSelectorTerm {
                    match_expressions: vec![core::NodeSelectorRequirement {
                        key: s("zone"),
                        operator: s("In"),
                        values: vec!["a".to_string()],
                    }],
                    match_fields: vec![],
                }],
            }),
            preferred_during_scheduling_ignored_during_execution: vec![],
        }),
        ..Default::default()
    });
    spec.security_context = Some(core::PodSecurityContext {
        fs_group: Some(2000),
        ..Default::default()
    });
    spec.dns_config = Some(core::PodDnsConfig {
        nameservers: vec!["1.1.1.1".to_string()],
        searches: vec![],
        options: vec![core::PodDnsConfigOption {
            name: s("ndots"),
            value: s("2"),
        }],
    });
    spec.host_aliases = vec![core::HostAlias {
        ip: s("127.0.0.2"),
        hostnames: vec!["db".to_string()],
    }];
    spec.priority = Some(0);
    spec.enable_service_links = Some(false);
    let mut metadata = go_meta("web-0", "default");
    metadata.annotations = labels(&[("note", "x")]);
    metadata.owner_references = vec![k8s_pb::apimachinery::pkg::apis::meta::v1::OwnerReference {
        api_version: s("apps/v1"),
        kind: s("ReplicaSet"),
        name: s("web-abc"),
        uid: s("1234"),
        controller: Some(true),
        block_owner_deletion: None,
    }];
    let pod = core::Pod {
        metadata: Some(metadata),
        spec: Some(spec),
        status: Some(core::PodStatus {
            phase: s("Running"),
            host_ip: s("10.0.0.1"),
            host_ips: vec![core::HostIp { ip: s("10.0.0.1") }],
            pod_ip: s("10.244.0.5"),
            pod_ips: vec![
                core::PodIp {
                    ip: s("10.244.0.5"),
                },
                core::PodIp { ip: s("fd00::5") },
            ],
            start_time: Some(Time {
                seconds: Some(1_700_000_000),
                nanos: None,
            }),
            qos_class: s("Burstable"),
            conditions: vec![core::PodCondition {
                r#type: s("Ready"),
                status: s("True"),
                last_probe_time: Some(Time::default()),
                last_transition_time: Some(Time {
                    seconds: Some(1_700_000_060),
                    nanos: None,
                }),
                reason: s(""),
                message: s(""),
                ..Default::default()
            }],
            ..Default::default()
        }),
    };
    let json = decode_message("v1", "Pod", &pod);
    let expected = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "web-0", "namespace": "default", "annotations": {"note": "x"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "1234", "controller": true}]
        },
        "spec": {
            "volumes": [
                {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
                {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 420}}
            ],
            "initContainers": [{"name": "init", "image": "busybox", "resources": {}}],
            "containers": [{
                "name": "app", "image": "nginx:1.27", "resources": {},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
                "securityContext": {
                    "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                    "privileged": false, "runAsUser": 0, "runAsNonRoot": false, "readOnlyRootFilesystem": true
                }
            }],
            "terminationGracePeriodSeconds": 0,
            "nodeSelector": {"disk": "ssd"},
            "automountServiceAccountToken": false,
            "securityContext": {"fsGroup": 2000},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
            ]}}},
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "hostAliases": [{"ip": "127.0.0.2", "hostnames": ["db"]}],
            "priority": 0,
            "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
            "enableServiceLinks": false
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2023-11-14T22:14:20Z"}],
            "hostIP": "10.0.0.1",
            "hostIPs": [{"ip": "10.0.0.1"}],
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
            "startTime": "2023-11-14T22:13:20Z",
            "qosClass": "Burstable"
        }
    });
    assert_json_eq(&json, &expected);
    let from_protobuf: k8s_openapi::api::core::v1::Pod = typed(&json);
    let from_json: k8s_openapi::api::core::v1::Pod = typed(&expected);
    assert_eq!(from_protobuf, from_json);
}

#[test]
fn controller_revision_embeds_raw_json() {
    let revision = apps::ControllerRevision {
        metadata: Some(go_meta("web-1", "default")),
        data: Some(RawExtension {
            raw: Some(br#"{"spec":{"template":{"metadata":{"labels":{"a":"b"}}}}}"#.to_vec()),
        }),
        revision: Some(1),
    };
    let json = decode_message("apps/v1", "ControllerRevision", &revision);
    assert_json_eq(
        &json,
        &json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "web-1", "namespace": "default"},
            "data": {"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}},
            "revision": 1
        }),
    );
    let _: k8s_openapi::api::apps::v1::ControllerRevision = typed(&json);
}
