//! PodPreset (`settings.k8s.io/v1alpha1`): at pod creation, every preset in the pod's namespace
//! whose `spec.selector` matches the pod's labels merges its `env`, `envFrom`, `volumes` and
//! `volumeMounts` into the pod (volumes into the pod, the rest into every container and init
//! container), and the pod is annotated with the preset's resourceVersion.
//!
//! Unlike the removed upstream plugin, which skipped *all* presets when any conflicted, a
//! conflicting preset is skipped alone and reported so the server can record an event.

mod merge;

use peapod_apimachinery::selectors::LabelSelector;
use serde_json::Value;

use crate::json::{metadata_map, object_entry, str_at};

/// Prefix of the annotations PodPreset admission reads and writes.
pub const ANNOTATION_PREFIX: &str = "podpreset.admission.kubernetes.io";
/// `"true"` on a pod keeps every preset away from it.
pub const EXCLUDE_ANNOTATION: &str = "podpreset.admission.kubernetes.io/exclude";
use peapod_apimachinery::well_known::MIRROR_POD_ANNOTATION;

/// What [`apply_pod_presets`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresetOutcome {
    /// Names of the presets merged into the pod, in the order applied (by name).
    pub applied: Vec<String>,
    /// Presets that matched but were skipped, with the reason (a merge conflict, or an invalid
    /// selector or spec).
    pub conflicts: Vec<(String, String)>,
}

/// The annotation recording that preset `name` was applied.
pub fn preset_annotation(name: &str) -> String {
    format!("{ANNOTATION_PREFIX}/podpreset-{name}")
}

/// Applies the matching `presets` (PodPreset objects of the pod's namespace) to `pod`, a pod
/// being created. Presets are considered in name order; each is merged only if it does not
/// conflict with the pod as modified by the presets before it.
pub fn apply_pod_presets(pod: &mut Value, presets: &[Value]) -> PresetOutcome {
    let mut outcome = PresetOutcome::default();
    if let Some(annotations) = metadata_map(pod, "annotations") {
        let excluded = annotations.get(EXCLUDE_ANNOTATION).and_then(Value::as_str) == Some("true");
        if excluded || annotations.contains_key(MIRROR_POD_ANNOTATION) {
            return outcome;
        }
    }
    let namespace = str_at(pod, &["metadata", "namespace"])
        .unwrap_or("")
        .to_string();
    let mut candidates: Vec<&Value> = presets
        .iter()
        .filter(|p| {
            let preset_namespace = str_at(p, &["metadata", "namespace"]).unwrap_or("");
            preset_namespace.is_empty() || namespace.is_empty() || preset_namespace == namespace
        })
        .collect();
    candidates.sort_by_key(|p| str_at(p, &["metadata", "name"]).unwrap_or(""));

    for preset in candidates {
        let name = str_at(preset, &["metadata", "name"])
            .unwrap_or("")
            .to_string();
        match try_apply(pod, &name, preset) {
            Ok(true) => outcome.applied.push(name),
            Ok(false) => {}
            Err(message) => outcome.conflicts.push((name, message)),
        }
    }
    outcome
}

/// `Ok(true)` when applied, `Ok(false)` when the selector does not match.
fn try_apply(pod: &mut Value, name: &str, preset: &Value) -> Result<bool, String> {
    let spec = preset.get("spec").unwrap_or(&Value::Null);
    // The v1alpha1 selector is a plain struct: absent means empty, which selects every pod.
    let selector = match spec.get("selector") {
        None | Some(Value::Null) => LabelSelector::everything(),
        Some(selector) => {
            LabelSelector::from_api(selector).map_err(|e| format!("invalid selector: {e}"))?
        }
    };
    if !selector.matches(metadata_map(pod, "labels")) {
        return Ok(false);
    }
    let mut candidate = pod.clone();
    let Some(object) = candidate.as_object_mut() else {
        return Err("pod must be an object".to_string());
    };
    merge::merge_preset(object_entry(object, "spec"), name, spec)
        .map_err(|conflicts| conflicts.join("; "))?;
    let resource_version = str_at(preset, &["metadata", "resourceVersion"]).unwrap_or("");
    let annotations = object_entry(object_entry(object, "metadata"), "annotations");
    annotations.insert(
        preset_annotation(name),
        Value::String(resource_version.to_string()),
    );
    *pod = candidate;
    Ok(true)
}

#[cfg(test)]
mod tests;
