//! Downward API files: the pod's own fields and its containers' resources.

use k8s_openapi::api::core::v1::DownwardAPIVolumeFile;
use serde_json::Value;

use super::{file_mode, Inputs};
use crate::atomic_writer::{validate_path, FileProjection, Payload};

/// Whether any item needs the node's allocatable resources (a `resourceFieldRef`).
pub(crate) fn needs_node(items: &[DownwardAPIVolumeFile]) -> bool {
    items.iter().any(|i| i.resource_field_ref.is_some())
}

pub(crate) fn payload(
    items: &[DownwardAPIVolumeFile],
    default_mode: u32,
    pod: &Value,
    inputs: &Inputs,
) -> Result<Payload, String> {
    let mut payload = Payload::new();
    for item in items {
        validate_path(&item.path)?;
        let value = item_value(item, pod, inputs)?;
        let mode = match item.mode {
            Some(_) => file_mode(item.mode)?,
            None => default_mode,
        };
        payload.insert(
            item.path.clone(),
            FileProjection {
                data: value.into_bytes(),
                mode,
            },
        );
    }
    Ok(payload)
}

fn item_value(
    item: &DownwardAPIVolumeFile,
    pod: &Value,
    inputs: &Inputs,
) -> Result<String, String> {
    match (&item.field_ref, &item.resource_field_ref) {
        (Some(field), None) => peapod_admission::resolve_field_ref(pod, &field.field_path)
            .map_err(|e| format!("unable to resolve fieldRef for {:?}: {e}", item.path)),
        (None, Some(resource)) => {
            let container = resource
                .container_name
                .as_deref()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    format!("resourceFieldRef for {:?} needs a containerName", item.path)
                })?;
            peapod_admission::resolve_resource_field_ref(
                pod,
                container,
                &resource.resource,
                resource.divisor.as_ref().map(|q| q.0.as_str()),
                &inputs.node_allocatable,
            )
            .map_err(|e| {
                format!(
                    "unable to resolve resourceFieldRef for {:?}: {e}",
                    item.path
                )
            })
        }
        _ => Err(format!(
            "downwardAPI item {:?} needs exactly one of fieldRef and resourceFieldRef",
            item.path
        )),
    }
}
