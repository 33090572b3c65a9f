//! `projected` volumes: several sources (secret, configMap, downwardAPI, serviceAccountToken)
//! merged into one directory.

use k8s_openapi::api::core::v1::ProjectedVolumeSource;
use serde_json::Value;

use super::keyed::{config_map_data, project, secret_data, Kind};
use super::{downward, file_mode, Inputs, Reference};
use crate::atomic_writer::{validate_path, FileProjection, Payload};

/// The API server's default token lifetime when the pod spec leaves it out.
const DEFAULT_TOKEN_SECONDS: i64 = 3600;

pub(crate) fn references(source: &ProjectedVolumeSource) -> Vec<Reference> {
    let mut refs = Vec::new();
    for (index, s) in source.sources.iter().flatten().enumerate() {
        if let Some(cm) = &s.config_map {
            refs.push(Reference::ConfigMap(cm.name.clone()));
        }
        if let Some(secret) = &s.secret {
            refs.push(Reference::Secret(secret.name.clone()));
        }
        if let Some(d) = &s.downward_api {
            if downward::needs_node(d.items.as_deref().unwrap_or_default()) {
                refs.push(Reference::Node);
            }
        }
        if let Some(t) = &s.service_account_token {
            refs.push(Reference::Token {
                index,
                audience: t.audience.clone().filter(|a| !a.is_empty()),
                expiration_seconds: t.expiration_seconds.unwrap_or(DEFAULT_TOKEN_SECONDS),
            });
        }
    }
    refs
}

/// All sources merged; errors of several sources are reported together, as the kubelet does.
pub(crate) fn payload(
    source: &ProjectedVolumeSource,
    pod: &Value,
    inputs: &Inputs,
) -> Result<Payload, String> {
    let mode = file_mode(source.default_mode)?;
    let mut payload = Payload::new();
    let mut errors = Vec::new();
    for (index, s) in source.sources.iter().flatten().enumerate() {
        let part = if let Some(cm) = &s.config_map {
            let optional = cm.optional.unwrap_or(false);
            config_map_data(&cm.name, inputs, optional).and_then(|data| match data {
                Some(data) => project(Kind::ConfigMap, &data, cm.items.as_deref(), mode, optional),
                None => Ok(Payload::new()),
            })
        } else if let Some(secret) = &s.secret {
            let optional = secret.optional.unwrap_or(false);
            secret_data(&secret.name, inputs, optional).and_then(|data| match data {
                Some(data) => project(Kind::Secret, &data, secret.items.as_deref(), mode, optional),
                None => Ok(Payload::new()),
            })
        } else if let Some(d) = &s.downward_api {
            downward::payload(d.items.as_deref().unwrap_or_default(), mode, pod, inputs)
        } else if let Some(t) = &s.service_account_token {
            token_file(&t.path, index, mode, inputs)
        } else {
            // clusterTrustBundle and sources from newer APIs are not supported yet.
            Err(format!(
                "projected source {index} has no supported source type"
            ))
        };
        match part {
            Ok(files) => payload.extend(files),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(payload),
        1 => Err(errors.remove(0)),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

/// The token file; its mode follows the volume's `defaultMode`, like the kubelet.
fn token_file(path: &str, index: usize, mode: u32, inputs: &Inputs) -> Result<Payload, String> {
    validate_path(path)?;
    let token = match inputs.tokens.get(&index) {
        Some(Ok(token)) => token.clone(),
        Some(Err(e)) => return Err(format!("failed to fetch token: {e}")),
        None => return Err("failed to fetch token: no token was requested".to_string()),
    };
    let mut payload = Payload::new();
    payload.insert(
        path.to_string(),
        FileProjection {
            data: token.into_bytes(),
            mode,
        },
    );
    Ok(payload)
}
