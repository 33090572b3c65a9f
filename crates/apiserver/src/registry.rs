//! The resources the server serves: names, scope, subresources and where they are stored.
//! Discovery, OpenAPI, routing and storage keys are all derived from this one table.

use peapod_apimachinery::gvk::kinds;
use peapod_apimachinery::Gvk;

#[derive(Debug)]
pub struct Subresource {
    pub name: &'static str,
    /// Kind of the subresource's body (e.g. `autoscaling/v1 Scale`).
    pub kind: Gvk,
    pub verbs: &'static [&'static str],
}

#[derive(Debug)]
pub struct ResourceInfo {
    pub gvk: Gvk,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub subresources: &'static [Subresource],
    /// PUT on a missing object creates it (Kubernetes' AllowCreateOnUpdate).
    pub create_on_update: bool,
    /// Field selectors the list/watch accepts beyond metadata.name/metadata.namespace.
    pub field_selectors: &'static [&'static str],
}

impl ResourceInfo {
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }
    pub fn has_status(&self) -> bool {
        self.has_subresource("status")
    }
    /// Storage prefix: `/registry/<resource>/` (the group is added where two groups share a
    /// resource name, e.g. events).
    pub fn key_prefix(&self) -> String {
        match self.gvk.group {
            "" | "apps" | "batch" | "coordination.k8s.io" | "settings.k8s.io" => {
                format!("/registry/{}/", self.plural)
            }
            g => format!("/registry/{g}/{}/", self.plural),
        }
    }
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}{ns}/{name}", self.key_prefix()),
            _ => format!("{}{name}", self.key_prefix()),
        }
    }
    /// Prefix of all objects of this resource in `namespace` (or everywhere).
    pub fn list_prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}{ns}/", self.key_prefix()),
            _ => self.key_prefix(),
        }
    }
    pub fn group_resource(&self) -> String {
        if self.gvk.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.gvk.group)
        }
    }
}

const STATUS_V: &[&str] = &["get", "patch", "update"];
const SCALE: Gvk = Gvk::new("autoscaling", "v1", "Scale");
const NO_FIELDS: &[&str] = &[];

macro_rules! sub {
    ($name:expr, $kind:expr, $verbs:expr) => {
        Subresource {
            name: $name,
            kind: $kind,
            verbs: $verbs,
        }
    };
}

const fn res(
    gvk: Gvk,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [Subresource],
) -> ResourceInfo {
    ResourceInfo {
        gvk,
        plural,
        singular,
        namespaced,
        short_names,
        categories,
        subresources,
        create_on_update: false,
        field_selectors: NO_FIELDS,
    }
}

static RESOURCES: &[ResourceInfo] = &[
    ResourceInfo {
        field_selectors: &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ..res(
            kinds::POD,
            "pods",
            "pod",
            true,
            &["po"],
            &["all"],
            &[
                sub!(
                    "attach",
                    Gvk::new("", "v1", "PodAttachOptions"),
                    &["create", "get"]
                ),
                sub!("binding", Gvk::new("", "v1", "Binding"), &["create"]),
                sub!(
                    "eviction",
                    Gvk::new("policy", "v1", "Eviction"),
                    &["create"]
                ),
                sub!(
                    "exec",
                    Gvk::new("", "v1", "PodExecOptions"),
                    &["create", "get"]
                ),
                sub!("log", kinds::POD, &["get"]),
                sub!(
                    "portforward",
                    Gvk::new("", "v1", "PodPortForwardOptions"),
                    &["create", "get"]
                ),
                sub!("status", kinds::POD, STATUS_V),
            ],
        )
    },
    ResourceInfo {
        field_selectors: &["spec.unschedulable"],
        ..res(
            kinds::NODE,
            "nodes",
            "node",
            false,
            &["no"],
            &[],
            &[sub!("status", kinds::NODE, STATUS_V)],
        )
    },
    ResourceInfo {
        field_selectors: &["status.phase"],
        ..res(
            kinds::NAMESPACE,
            "namespaces",
            "namespace",
            false,
            &["ns"],
            &[],
            &[
                sub!("finalize", kinds::NAMESPACE, &["update"]),
                sub!("status", kinds::NAMESPACE, STATUS_V),
            ],
        )
    },
    res(
        kinds::CONFIG_MAP,
        "configmaps",
        "configmap",
        true,
        &["cm"],
        &[],
        &[],
    ),
    ResourceInfo {
        field_selectors: &["type"],
        ..res(kinds::SECRET, "secrets", "secret", true, &[], &[], &[])
    },
    res(
        kinds::SERVICE_ACCOUNT,
        "serviceaccounts",
        "serviceaccount",
        true,
        &["sa"],
        &[],
        &[sub!(
            "token",
            Gvk::new("authentication.k8s.io", "v1", "TokenRequest"),
            &["create"]
        )],
    ),
    ResourceInfo {
        create_on_update: true,
        field_selectors: &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ..res(kinds::EVENT, "events", "event", true, &["ev"], &[], &[])
    },
    ResourceInfo {
        field_selectors: &["spec.clusterIP", "spec.type"],
        ..res(
            kinds::SERVICE,
            "services",
            "service",
            true,
            &["svc"],
            &["all"],
            &[sub!("status", kinds::SERVICE, STATUS_V)],
        )
    },
    ResourceInfo {
        field_selectors: &["status.replicas"],
        ..res(
            kinds::REPLICATION_CONTROLLER,
            "replicationcontrollers",
            "replicationcontroller",
            true,
            &["rc"],
            &["all"],
            &[
                sub!("scale", SCALE, STATUS_V),
                sub!("status", kinds::REPLICATION_CONTROLLER, STATUS_V),
            ],
        )
    },
    ResourceInfo {
        create_on_update: true,
        ..res(
            kinds::ENDPOINTS,
            "endpoints",
            "endpoints",
            true,
            &["ep"],
            &[],
            &[],
        )
    },
    ResourceInfo {
        create_on_update: true,
        field_selectors: &[
            "reason",
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "type",
            "reportingController",
        ],
        ..res(
            kinds::EVENTS_V1_EVENT,
            "events",
            "event",
            true,
            &["ev"],
            &[],
            &[],
        )
    },
    ResourceInfo {
        create_on_update: true,
        ..res(kinds::LEASE, "leases", "lease", true, &[], &[], &[])
    },
    res(
        kinds::DEPLOYMENT,
        "deployments",
        "deployment",
        true,
        &["deploy"],
        &["all"],
        &[
            sub!("scale", SCALE, STATUS_V),
            sub!("status", kinds::DEPLOYMENT, STATUS_V),
        ],
    ),
    res(
        kinds::REPLICA_SET,
        "replicasets",
        "replicaset",
        true,
        &["rs"],
        &["all"],
        &[
            sub!("scale", SCALE, STATUS_V),
            sub!("status", kinds::REPLICA_SET, STATUS_V),
        ],
    ),
    res(
        kinds::DAEMON_SET,
        "daemonsets",
        "daemonset",
        true,
        &["ds"],
        &["all"],
        &[sub!("status", kinds::DAEMON_SET, STATUS_V)],
    ),
    res(
        kinds::STATEFUL_SET,
        "statefulsets",
        "statefulset",
        true,
        &["sts"],
        &["all"],
        &[
            sub!("scale", SCALE, STATUS_V),
            sub!("status", kinds::STATEFUL_SET, STATUS_V),
        ],
    ),
    res(
        kinds::CONTROLLER_REVISION,
        "controllerrevisions",
        "controllerrevision",
        true,
        &[],
        &[],
        &[],
    ),
    ResourceInfo {
        field_selectors: &["status.successful"],
        ..res(
            kinds::JOB,
            "jobs",
            "job",
            true,
            &[],
            &["all"],
            &[sub!("status", kinds::JOB, STATUS_V)],
        )
    },
    res(
        kinds::CRON_JOB,
        "cronjobs",
        "cronjob",
        true,
        &["cj"],
        &["all"],
        &[sub!("status", kinds::CRON_JOB, STATUS_V)],
    ),
    res(
        kinds::POD_PRESET,
        "podpresets",
        "podpreset",
        true,
        &[],
        &[],
        &[],
    ),
];

pub fn all() -> &'static [ResourceInfo] {
    RESOURCES
}

/// The resource served at `group`/`version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.gvk.group == group && r.gvk.version == version && r.plural == plural)
}

/// A core (`v1`) resource the server itself relies on; its absence is a bug.
pub(crate) fn core(plural: &str) -> &'static ResourceInfo {
    find("", "v1", plural).expect("core resource is registered")
}

pub fn find_kind(gvk: &Gvk) -> Option<&'static ResourceInfo> {
    RESOURCES.iter().find(|r| r.gvk == *gvk)
}

/// Served group/versions in discovery order (core first).
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        let gv = (r.gvk.group, r.gvk.version);
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_kubernetes_layout() {
        let pods = find("", "v1", "pods").unwrap();
        assert_eq!(
            pods.key(Some("default"), "web"),
            "/registry/pods/default/web"
        );
        let ns = find("", "v1", "namespaces").unwrap();
        assert_eq!(
            ns.key(Some("ignored"), "kube-system"),
            "/registry/namespaces/kube-system"
        );
        let ev = find("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(ev.list_prefix(None), "/registry/events.k8s.io/events/");
    }

    #[test]
    fn every_kind_is_unique() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(a.gvk != b.gvk, "{} twice", a.gvk);
                assert!(
                    a.key_prefix() != b.key_prefix(),
                    "{} shares storage",
                    a.plural
                );
            }
        }
    }
}
