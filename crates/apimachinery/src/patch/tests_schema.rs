use super::schema::{PatchStrategy, TypeSchema};
use super::{schema_for, supports_strategic_merge};
use crate::gvk::{kinds, Gvk};

/// Follows a dotted path (list fields step into their element type) and returns the last field's
/// (strategy, retainKeys).
fn at(schema: &'static TypeSchema, path: &str) -> (PatchStrategy, bool) {
    let mut current = schema;
    let mut result = (PatchStrategy::Replace, false);
    for name in path.split('.') {
        match current.field(name) {
            Some(field) => {
                result = (field.strategy, field.retain_keys);
                current = field.value;
            }
            None => {
                result = (PatchStrategy::Replace, false);
                current = &TypeSchema::PLAIN;
            }
        }
    }
    result
}

fn schema(gvk: Gvk) -> &'static TypeSchema {
    schema_for(gvk).unwrap_or_else(|| panic!("no schema for {gvk}"))
}

const fn by(key: &'static str) -> (PatchStrategy, bool) {
    (
        PatchStrategy::Merge {
            merge_key: Some(key),
        },
        false,
    )
}

#[test]
fn declared_strategies_match_the_kubernetes_types() {
    use kinds::*;
    let set = (PatchStrategy::Merge { merge_key: None }, false);
    let replace = (PatchStrategy::Replace, false);
    let retain_by_name = (
        PatchStrategy::Merge {
            merge_key: Some("name"),
        },
        true,
    );
    let pod_spec_paths = [
        ("containers", by("name")),
        ("initContainers", by("name")),
        ("ephemeralContainers", by("name")),
        ("containers.env", by("name")),
        ("containers.ports", by("containerPort")),
        ("containers.volumeMounts", by("mountPath")),
        ("containers.volumeDevices", by("devicePath")),
        ("containers.resizePolicy", replace),
        ("containers.envFrom", replace),
        ("initContainers.env", by("name")),
        ("volumes", retain_by_name),
        ("resourceClaims", retain_by_name),
        ("imagePullSecrets", by("name")),
        ("hostAliases", by("ip")),
        ("topologySpreadConstraints", by("topologyKey")),
        ("schedulingGates", by("name")),
        ("tolerations", replace),
        ("readinessGates", replace),
    ];
    let templates = [
        (POD, "spec"),
        (DEPLOYMENT, "spec.template.spec"),
        (REPLICA_SET, "spec.template.spec"),
        (REPLICATION_CONTROLLER, "spec.template.spec"),
        (DAEMON_SET, "spec.template.spec"),
        (STATEFUL_SET, "spec.template.spec"),
        (JOB, "spec.template.spec"),
        (CRON_JOB, "spec.jobTemplate.spec.template.spec"),
    ];
    for (gvk, prefix) in templates {
        for (path, expected) in pod_spec_paths {
            assert_eq!(
                at(schema(gvk), &format!("{prefix}.{path}")),
                expected,
                "{gvk} {prefix}.{path}"
            );
        }
        let meta = prefix.trim_end_matches("spec").to_string() + "metadata";
        assert_eq!(
            at(schema(gvk), &format!("{meta}.finalizers")),
            set,
            "{gvk} {meta}"
        );
    }
    let others = [
        (POD, "metadata.finalizers", set),
        (POD, "metadata.ownerReferences", by("uid")),
        (POD, "status.conditions", by("type")),
        (POD, "status.podIPs", by("ip")),
        (POD, "status.hostIPs", by("ip")),
        (POD, "status.containerStatuses", replace),
        (DEPLOYMENT, "spec.strategy", (PatchStrategy::Replace, true)),
        (DAEMON_SET, "spec.updateStrategy", replace),
        (STATEFUL_SET, "spec.updateStrategy", replace),
        (DEPLOYMENT, "status.conditions", by("type")),
        (REPLICA_SET, "status.conditions", by("type")),
        (REPLICATION_CONTROLLER, "status.conditions", by("type")),
        (DAEMON_SET, "status.conditions", by("type")),
        (STATEFUL_SET, "status.conditions", by("type")),
        (JOB, "status.conditions", by("type")),
        (NODE, "spec.podCIDRs", set),
        (NODE, "spec.taints", replace),
        (NODE, "status.conditions", by("type")),
        (NODE, "status.addresses", by("type")),
        (NAMESPACE, "spec.finalizers", replace),
        (NAMESPACE, "status.conditions", by("type")),
        (SERVICE, "spec.ports", by("port")),
        (SERVICE, "status.conditions", by("type")),
        (SERVICE_ACCOUNT, "secrets", by("name")),
        (POD_PRESET, "spec.env", replace),
        (POD_PRESET, "spec.volumes", replace),
        (CONFIG_MAP, "metadata.ownerReferences", by("uid")),
    ];
    for (gvk, path, expected) in others {
        assert_eq!(at(schema(gvk), path), expected, "{gvk} {path}");
    }
}

#[test]
fn every_served_kind_has_a_schema() {
    use kinds::*;
    let served = [
        POD,
        NODE,
        NAMESPACE,
        CONFIG_MAP,
        SECRET,
        SERVICE_ACCOUNT,
        EVENT,
        SERVICE,
        ENDPOINTS,
        REPLICATION_CONTROLLER,
        EVENTS_V1_EVENT,
        LEASE,
        DEPLOYMENT,
        REPLICA_SET,
        DAEMON_SET,
        STATEFUL_SET,
        CONTROLLER_REVISION,
        JOB,
        CRON_JOB,
        POD_PRESET,
    ];
    for gvk in served {
        assert!(supports_strategic_merge(gvk), "{gvk}");
    }
    assert!(!supports_strategic_merge(Gvk::new(
        "example.com",
        "v1",
        "Widget"
    )));
}
