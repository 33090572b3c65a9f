//! Patch metadata of the types peapod serves, transcribed from the `patchStrategy` /
//! `patchMergeKey` tags of k8s.io/api (core/v1, apps/v1, batch/v1) and k8s.io/apimachinery
//! (meta/v1). Fields without tags are deliberately absent — notably `tolerations`, `readinessGates`,
//! container `resizePolicy`/`envFrom`, node `taints`, namespace `spec.finalizers`, and all of
//! PodPreset's lists: Kubernetes replaces those lists whole.

use super::schema::{
    merge_by, merge_by_retaining_keys, merge_set, nested, retaining_keys, TypeSchema,
};
use crate::gvk::Gvk;

static OBJECT_META: TypeSchema = TypeSchema {
    fields: &[
        merge_set("finalizers"),
        merge_by("ownerReferences", "uid", &TypeSchema::PLAIN),
    ],
};

/// Container and EphemeralContainer carry the same tags.
static CONTAINER: TypeSchema = TypeSchema {
    fields: &[
        merge_by("ports", "containerPort", &TypeSchema::PLAIN),
        merge_by("env", "name", &TypeSchema::PLAIN),
        merge_by("volumeMounts", "mountPath", &TypeSchema::PLAIN),
        merge_by("volumeDevices", "devicePath", &TypeSchema::PLAIN),
    ],
};

static POD_SPEC: TypeSchema = TypeSchema {
    fields: &[
        merge_by_retaining_keys("volumes", "name", &TypeSchema::PLAIN),
        merge_by("initContainers", "name", &CONTAINER),
        merge_by("containers", "name", &CONTAINER),
        merge_by("ephemeralContainers", "name", &CONTAINER),
        merge_by("imagePullSecrets", "name", &TypeSchema::PLAIN),
        merge_by("hostAliases", "ip", &TypeSchema::PLAIN),
        merge_by(
            "topologySpreadConstraints",
            "topologyKey",
            &TypeSchema::PLAIN,
        ),
        merge_by("schedulingGates", "name", &TypeSchema::PLAIN),
        merge_by_retaining_keys("resourceClaims", "name", &TypeSchema::PLAIN),
    ],
};

static POD_STATUS: TypeSchema = TypeSchema {
    fields: &[
        merge_by("conditions", "type", &TypeSchema::PLAIN),
        merge_by("podIPs", "ip", &TypeSchema::PLAIN),
        merge_by("hostIPs", "ip", &TypeSchema::PLAIN),
        merge_by_retaining_keys("resourceClaimStatuses", "name", &TypeSchema::PLAIN),
    ],
};

static POD: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &POD_SPEC),
        nested("status", &POD_STATUS),
    ],
};

static POD_TEMPLATE_SPEC: TypeSchema = TypeSchema {
    fields: &[nested("metadata", &OBJECT_META), nested("spec", &POD_SPEC)],
};

/// `spec` of ReplicationController, ReplicaSet, DaemonSet, StatefulSet and Job: only the pod template has metadata.
static SPEC_WITH_TEMPLATE: TypeSchema = TypeSchema {
    fields: &[nested("template", &POD_TEMPLATE_SPEC)],
};

static DEPLOYMENT_SPEC: TypeSchema = TypeSchema {
    fields: &[
        nested("template", &POD_TEMPLATE_SPEC),
        retaining_keys("strategy"),
    ],
};

/// `status` of the workload kinds: conditions merge by type.
static STATUS_WITH_CONDITIONS: TypeSchema = TypeSchema {
    fields: &[merge_by("conditions", "type", &TypeSchema::PLAIN)],
};

static DEPLOYMENT: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &DEPLOYMENT_SPEC),
        nested("status", &STATUS_WITH_CONDITIONS),
    ],
};

/// ReplicationController, ReplicaSet, DaemonSet, StatefulSet and Job share this shape.
static TEMPLATED_WORKLOAD: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &SPEC_WITH_TEMPLATE),
        nested("status", &STATUS_WITH_CONDITIONS),
    ],
};

static JOB_TEMPLATE_SPEC: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &SPEC_WITH_TEMPLATE),
    ],
};

static CRON_JOB_SPEC: TypeSchema = TypeSchema {
    fields: &[nested("jobTemplate", &JOB_TEMPLATE_SPEC)],
};

static CRON_JOB: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &CRON_JOB_SPEC),
    ],
};

static NODE_SPEC: TypeSchema = TypeSchema {
    fields: &[merge_set("podCIDRs")],
};

static NODE_STATUS: TypeSchema = TypeSchema {
    fields: &[
        merge_by("conditions", "type", &TypeSchema::PLAIN),
        merge_by("addresses", "type", &TypeSchema::PLAIN),
    ],
};

static NODE: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &NODE_SPEC),
        nested("status", &NODE_STATUS),
    ],
};

static NAMESPACE: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("status", &STATUS_WITH_CONDITIONS),
    ],
};

static SERVICE_SPEC: TypeSchema = TypeSchema {
    fields: &[merge_by("ports", "port", &TypeSchema::PLAIN)],
};

static SERVICE: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &SERVICE_SPEC),
        nested("status", &STATUS_WITH_CONDITIONS),
    ],
};

static SERVICE_ACCOUNT: TypeSchema = TypeSchema {
    fields: &[
        nested("metadata", &OBJECT_META),
        merge_by("secrets", "name", &TypeSchema::PLAIN),
    ],
};

/// Any object whose only patch metadata is in ObjectMeta.
pub static METADATA_ONLY: TypeSchema = TypeSchema {
    fields: &[nested("metadata", &OBJECT_META)],
};

/// The strategic-merge schema of a served kind (any version of its group), or `None` for kinds
/// Kubernetes does not accept strategic merge patches for (custom resources) or that peapod does
/// not know. The caller may fall back to [`METADATA_ONLY`] if it serves further built-in kinds.
pub fn schema_for(gvk: Gvk) -> Option<&'static TypeSchema> {
    let schema = match (gvk.group, gvk.kind) {
        ("", "Pod") => &POD,
        ("", "Node") => &NODE,
        ("", "Namespace") => &NAMESPACE,
        ("", "Service") => &SERVICE,
        ("", "ServiceAccount") => &SERVICE_ACCOUNT,
        ("", "ReplicationController") => &TEMPLATED_WORKLOAD,
        ("", "ConfigMap" | "Secret" | "Event" | "Endpoints") => &METADATA_ONLY,
        ("events.k8s.io", "Event")
        | ("coordination.k8s.io", "Lease")
        | ("settings.k8s.io", "PodPreset") => &METADATA_ONLY,
        ("apps", "ControllerRevision") => &METADATA_ONLY,
        ("apps", "Deployment") => &DEPLOYMENT,
        ("apps", "ReplicaSet" | "DaemonSet" | "StatefulSet") | ("batch", "Job") => {
            &TEMPLATED_WORKLOAD
        }
        ("batch", "CronJob") => &CRON_JOB,
        _ => return None,
    };
    Some(schema)
}

/// Whether [`super::strategic_merge_patch`] accepts this kind.
pub fn supports_strategic_merge(gvk: Gvk) -> bool {
    schema_for(gvk).is_some()
}
