//! Turning a pod's volume definition plus the API objects it names into a [`Payload`]: pure
//! functions, so fetching (network) and writing (filesystem) stay separate.

mod downward;
mod keyed;
mod projected;

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret, Volume};
use serde_json::Value;

use crate::atomic_writer::Payload;

/// The result of looking an object up.
#[derive(Clone, Debug)]
pub enum Lookup<T> {
    Found(T),
    Missing,
    /// The API call failed for another reason (message for the event).
    Failed(String),
}

/// Everything a payload may need, fetched beforehand.
#[derive(Default)]
pub struct Inputs {
    pub config_maps: HashMap<String, Lookup<ConfigMap>>,
    pub secrets: HashMap<String, Lookup<Secret>>,
    /// The node's `status.allocatable` (or `null`), for `resourceFieldRef` without a limit.
    pub node_allocatable: Value,
    /// Service account tokens by index of the source inside the projected volume.
    pub tokens: HashMap<usize, Result<String, String>>,
}

/// What a volume needs fetched before its payload can be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    ConfigMap(String),
    Secret(String),
    /// The node's allocatable resources.
    Node,
    /// A service account token for projected source number `index`.
    Token {
        index: usize,
        audience: Option<String>,
        expiration_seconds: i64,
    },
}

/// The API objects `volume` reads.
pub fn references(volume: &Volume) -> Vec<Reference> {
    let mut refs = Vec::new();
    if let Some(cm) = &volume.config_map {
        refs.push(Reference::ConfigMap(cm.name.clone()));
    }
    if let Some(secret) = &volume.secret {
        refs.push(Reference::Secret(
            secret.secret_name.clone().unwrap_or_default(),
        ));
    }
    if let Some(d) = &volume.downward_api {
        if downward::needs_node(d.items.as_deref().unwrap_or_default()) {
            refs.push(Reference::Node);
        }
    }
    if let Some(p) = &volume.projected {
        refs.extend(projected::references(p));
    }
    refs
}

/// The content of `volume` for `pod` (its JSON form), or the reason it cannot be built.
pub fn build(volume: &Volume, pod: &Value, inputs: &Inputs) -> Result<Payload, String> {
    if let Some(cm) = &volume.config_map {
        return keyed::config_map_volume(cm, inputs);
    }
    if let Some(secret) = &volume.secret {
        return keyed::secret_volume(secret, inputs);
    }
    if let Some(d) = &volume.downward_api {
        let mode = file_mode(d.default_mode)?;
        return downward::payload(d.items.as_deref().unwrap_or_default(), mode, pod, inputs);
    }
    if let Some(p) = &volume.projected {
        return projected::payload(p, pod, inputs);
    }
    Err(format!(
        "volume {:?} is not an API-projected volume",
        volume.name
    ))
}

/// The kubelet's default file mode, 0644.
const DEFAULT_MODE: u32 = 0o644;

/// A `defaultMode`/`mode` field as permission bits (default 0644); out-of-range is an error.
pub(crate) fn file_mode(mode: Option<i32>) -> Result<u32, String> {
    match mode {
        None => Ok(DEFAULT_MODE),
        Some(m) if (0..=0o777).contains(&m) => Ok(m as u32),
        Some(m) => Err(format!(
            "invalid file mode {m}: must be a number between 0 and 0777 (octal)"
        )),
    }
}

#[cfg(test)]
mod tests;
