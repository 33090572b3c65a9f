//! Volumes that project an object's keys as files: `configMap` and `secret`, as whole volumes
//! and as projected sources.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, KeyToPath, Secret, SecretVolumeSource,
};

use super::{file_mode, Inputs, Lookup};
use crate::atomic_writer::{validate_path, FileProjection, Payload};

/// Which object kind a key set comes from, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    fn not_found(self, name: &str) -> String {
        match self {
            Kind::ConfigMap => format!("configmap {name:?} not found"),
            Kind::Secret => format!("secret {name:?} not found"),
        }
    }

    fn missing_key(self, key: &str) -> String {
        match self {
            Kind::ConfigMap => format!("configmap references non-existent config key: {key}"),
            Kind::Secret => format!("references non-existent secret key: {key}"),
        }
    }
}

pub(crate) fn config_map_volume(
    source: &ConfigMapVolumeSource,
    inputs: &Inputs,
) -> Result<Payload, String> {
    let mode = file_mode(source.default_mode)?;
    let optional = source.optional.unwrap_or(false);
    let data = match config_map_data(&source.name, inputs, optional)? {
        Some(data) => data,
        None => return Ok(Payload::new()),
    };
    project(
        Kind::ConfigMap,
        &data,
        source.items.as_deref(),
        mode,
        optional,
    )
}

pub(crate) fn secret_volume(
    source: &SecretVolumeSource,
    inputs: &Inputs,
) -> Result<Payload, String> {
    let mode = file_mode(source.default_mode)?;
    let optional = source.optional.unwrap_or(false);
    let name = source.secret_name.as_deref().unwrap_or_default();
    let data = match secret_data(name, inputs, optional)? {
        Some(data) => data,
        None => return Ok(Payload::new()),
    };
    project(Kind::Secret, &data, source.items.as_deref(), mode, optional)
}

/// The ConfigMap's `data` and `binaryData` as bytes; `None` when it is optional and absent.
pub(crate) fn config_map_data(
    name: &str,
    inputs: &Inputs,
    optional: bool,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let cm = match inputs.config_maps.get(name) {
        Some(Lookup::Found(cm)) => cm,
        Some(Lookup::Failed(e)) => return Err(e.clone()),
        Some(Lookup::Missing) | None if optional => return Ok(None),
        Some(Lookup::Missing) | None => return Err(Kind::ConfigMap.not_found(name)),
    };
    Ok(Some(config_map_bytes(cm)))
}

fn config_map_bytes(cm: &ConfigMap) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (k, v) in cm.data.iter().flatten() {
        out.insert(k.clone(), v.clone().into_bytes());
    }
    for (k, v) in cm.binary_data.iter().flatten() {
        out.insert(k.clone(), v.0.clone());
    }
    out
}

/// The Secret's decoded `data` (with any `stringData` on top, as the API server merges it);
/// `None` when it is optional and absent.
pub(crate) fn secret_data(
    name: &str,
    inputs: &Inputs,
    optional: bool,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let secret = match inputs.secrets.get(name) {
        Some(Lookup::Found(s)) => s,
        Some(Lookup::Failed(e)) => return Err(e.clone()),
        Some(Lookup::Missing) | None if optional => return Ok(None),
        Some(Lookup::Missing) | None => return Err(Kind::Secret.not_found(name)),
    };
    Ok(Some(secret_bytes(secret)))
}

fn secret_bytes(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (k, v) in secret.data.iter().flatten() {
        out.insert(k.clone(), v.0.clone());
    }
    for (k, v) in secret.string_data.iter().flatten() {
        out.insert(k.clone(), v.clone().into_bytes());
    }
    out
}

/// Maps keys to files: every key under its own name, or only `items` (key → path, per-item
/// mode). A listed key that is missing is an error unless the source is optional.
pub(crate) fn project(
    kind: Kind,
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: u32,
    optional: bool,
) -> Result<Payload, String> {
    let mut payload = Payload::new();
    match items {
        None | Some([]) => {
            for (key, bytes) in data {
                validate_path(key)?;
                payload.insert(
                    key.clone(),
                    FileProjection {
                        data: bytes.clone(),
                        mode: default_mode,
                    },
                );
            }
        }
        Some(items) => {
            for item in items {
                let Some(bytes) = data.get(&item.key) else {
                    if optional {
                        continue;
                    }
                    return Err(kind.missing_key(&item.key));
                };
                validate_path(&item.path)?;
                let mode = match item.mode {
                    Some(_) => file_mode(item.mode)?,
                    None => default_mode,
                };
                payload.insert(
                    item.path.clone(),
                    FileProjection {
                        data: bytes.clone(),
                        mode,
                    },
                );
            }
        }
    }
    Ok(payload)
}
