//! Merging one PodPreset's `env`, `envFrom`, `volumes` and `volumeMounts` into a pod spec, with
//! the conflict rules of the old Kubernetes PodPreset plugin: an entry with the same key must be
//! identical, otherwise the preset conflicts.

use serde_json::{Map, Value};

use crate::json::{array_entry, list};

/// Merges `preset_spec` into `spec`. On conflict `spec` may be partly modified: callers merge
/// into a copy and keep it only on success. Returns every conflict found, not just the first.
pub(crate) fn merge_preset(
    spec: &mut Map<String, Value>,
    preset_name: &str,
    preset_spec: &Value,
) -> Result<(), Vec<String>> {
    let mut conflicts = Vec::new();
    let volumes = list(preset_spec, "volumes").map_err(|e| vec![e])?;
    let env = list(preset_spec, "env").map_err(|e| vec![e])?;
    let env_from = list(preset_spec, "envFrom").map_err(|e| vec![e])?;
    let mounts = list(preset_spec, "volumeMounts").map_err(|e| vec![e])?;

    let pod_volumes = array_entry(spec, "volumes").map_err(|e| vec![format!("spec.{e}")])?;
    for volume in volumes {
        let name = entry_key(volume, "name");
        match pod_volumes.iter().find(|v| entry_key(v, "name") == name) {
            None => pod_volumes.push(volume.clone()),
            Some(existing) if same(existing, volume) => {}
            Some(existing) => conflicts.push(format!(
                "merging volumes for {preset_name} has a conflict on {name}: {existing} does not match {volume}"
            )),
        }
    }
    if pod_volumes.is_empty() {
        spec.remove("volumes");
    }

    for field in ["initContainers", "containers"] {
        let containers = match spec.get_mut(field) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(containers)) => containers,
            Some(_) => return Err(vec![format!("spec.{field} must be a list")]),
        };
        for container in containers {
            let Some(container) = container.as_object_mut() else {
                return Err(vec![format!("spec.{field} entries must be objects")]);
            };
            let container_name = container
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let context = ContainerContext {
                preset: preset_name,
                container: &container_name,
            };
            merge_env(container, env, &context, &mut conflicts).map_err(|e| vec![e])?;
            merge_mounts(container, mounts, &context, &mut conflicts).map_err(|e| vec![e])?;
            if !env_from.is_empty() {
                // envFrom entries are appended as they are: they have no key to clash on.
                array_entry(container, "envFrom")
                    .map_err(|e| vec![e])?
                    .extend(env_from.iter().cloned());
            }
        }
    }
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(conflicts)
    }
}

struct ContainerContext<'a> {
    preset: &'a str,
    container: &'a str,
}

fn merge_env(
    container: &mut Map<String, Value>,
    env: &[Value],
    context: &ContainerContext<'_>,
    conflicts: &mut Vec<String>,
) -> Result<(), String> {
    if env.is_empty() {
        return Ok(());
    }
    let existing = array_entry(container, "env")?;
    for variable in env {
        let name = entry_key(variable, "name");
        match existing.iter().find(|v| entry_key(v, "name") == name) {
            None => existing.push(variable.clone()),
            Some(found) if same(found, variable) => {}
            Some(found) => conflicts.push(format!(
                "merging env for {} has a conflict on {name}: {found} does not match {variable} in container {:?}",
                context.preset, context.container
            )),
        }
    }
    Ok(())
}

fn merge_mounts(
    container: &mut Map<String, Value>,
    mounts: &[Value],
    context: &ContainerContext<'_>,
    conflicts: &mut Vec<String>,
) -> Result<(), String> {
    if mounts.is_empty() {
        return Ok(());
    }
    let existing = array_entry(container, "volumeMounts")?;
    for mount in mounts {
        let name = entry_key(mount, "name");
        let path = entry_key(mount, "mountPath");
        let by_name = existing.iter().find(|m| entry_key(m, "name") == name);
        let by_path = existing.iter().find(|m| entry_key(m, "mountPath") == path);
        if let Some(found) = by_name.filter(|found| !same(found, mount)) {
            conflicts.push(format!(
                "merging volume mounts for {} has a conflict on {name}: {found} does not match {mount} in container {:?}",
                context.preset, context.container
            ));
        }
        if let Some(found) = by_path.filter(|found| !same(found, mount)) {
            conflicts.push(format!(
                "merging volume mounts for {} has a conflict on mount path {path}: {found} does not match {mount} in container {:?}",
                context.preset, context.container
            ));
        }
        // On a conflict the whole candidate pod is thrown away, so pushing here is harmless.
        if by_name.is_none() {
            existing.push(mount.clone());
        }
    }
    Ok(())
}

fn entry_key<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Equality as Go's `reflect.DeepEqual` sees the typed structs: a field set to its zero value
/// (`null`, `false`, `""`, `[]`) equals an absent one.
fn same(a: &Value, b: &Value) -> bool {
    without_zero_fields(a) == without_zero_fields(b)
}

fn without_zero_fields(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !is_zero(v))
                .map(|(k, v)| (k.clone(), without_zero_fields(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_zero_fields).collect()),
        other => other.clone(),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}
