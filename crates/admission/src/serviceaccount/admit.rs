//! The ServiceAccount admission step for pod creation: defaults `serviceAccountName`, copies the
//! ServiceAccount's image pull secrets, enforces mountable secrets when the ServiceAccount asks
//! for it, and adds the `kube-api-access-*` projected volume and its mounts.

use rand::Rng;
use serde_json::{json, Map, Value};

use crate::json::{array_entry, list, metadata_map, object_entry, str_at};

/// Where every container finds its token, `ca.crt` and `namespace`.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Prefix of the generated projected volume's name.
pub const TOKEN_VOLUME_PREFIX: &str = "kube-api-access-";
/// ServiceAccount used when a pod names none.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The expiry requested for the projected token (extended by the server, see TokenRequest).
pub const PROJECTED_TOKEN_EXPIRATION_SECONDS: i64 = 3607;

use peapod_apimachinery::well_known::MIRROR_POD_ANNOTATION;
const ENFORCE_MOUNTABLE_SECRETS_ANNOTATION: &str = "kubernetes.io/enforce-mountable-secrets";
/// Characters of generated name suffixes (no vowels, so no words are spelled by chance).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const NAME_SUFFIX_LEN: usize = 5;

/// The ServiceAccount a pod runs as: `spec.serviceAccountName`, else the deprecated
/// `spec.serviceAccount`, else `default`. The server looks this account up before admission.
pub fn service_account_name(pod: &Value) -> &str {
    [
        str_at(pod, &["spec", "serviceAccountName"]),
        str_at(pod, &["spec", "serviceAccount"]),
    ]
    .into_iter()
    .flatten()
    .find(|name| !name.is_empty())
    .unwrap_or(DEFAULT_SERVICE_ACCOUNT)
}

/// Admits a pod being created. `sa` is the ServiceAccount named by [`service_account_name`], or
/// `None` when it does not exist, which rejects the pod (the caller answers 403 Forbidden with
/// this message, as Kubernetes does while a new namespace's `default` account is not made yet).
pub fn admit_service_account(pod: &mut Value, sa: Option<&Value>) -> Result<(), String> {
    admit_with_names(pod, sa, random_suffix)
}

/// [`admit_service_account`] with a chosen generator for the volume name suffix.
pub(crate) fn admit_with_names(
    pod: &mut Value,
    sa: Option<&Value>,
    mut suffix: impl FnMut() -> String,
) -> Result<(), String> {
    if metadata_map(pod, "annotations").is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION)) {
        return validate_mirror_pod(pod);
    }
    let account_name = service_account_name(pod).to_string();
    let namespace = str_at(pod, &["metadata", "namespace"])
        .unwrap_or("")
        .to_string();
    let Some(account) = sa else {
        return Err(format!(
            "error looking up service account {namespace}/{account_name}: serviceaccount \"{account_name}\" not found"
        ));
    };
    if str_at(account, &["metadata", "name"]) != Some(account_name.as_str()) {
        return Err(format!(
            "service account given for admission is not {namespace}/{account_name}"
        ));
    }
    let Some(pod_object) = pod.as_object_mut() else {
        return Err("pod must be an object".to_string());
    };
    let spec = object_entry(pod_object, "spec");
    // Both fields, as the v1 API returns them after conversion.
    spec.insert("serviceAccountName".into(), json!(account_name));
    spec.insert("serviceAccount".into(), json!(account_name));

    if enforces_mountable_secrets(account) {
        check_mountable_secrets(spec, account, &account_name)?;
    }
    copy_image_pull_secrets(spec, account)?;
    if should_automount(spec, account) {
        mount_token(spec, &mut suffix)?;
    }
    Ok(())
}

/// The pod's `automountServiceAccountToken` wins; otherwise the account's; otherwise true.
fn should_automount(spec: &Map<String, Value>, account: &Value) -> bool {
    spec.get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            account
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool)
        })
        .unwrap_or(true)
}

fn copy_image_pull_secrets(spec: &mut Map<String, Value>, account: &Value) -> Result<(), String> {
    let has_own = spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let from_account = list(account, "imagePullSecrets")?;
    if has_own || from_account.is_empty() {
        return Ok(());
    }
    let copied = from_account
        .iter()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .map(|name| json!({"name": name}))
        .collect();
    spec.insert("imagePullSecrets".into(), Value::Array(copied));
    Ok(())
}

fn mount_token(
    spec: &mut Map<String, Value>,
    suffix: &mut impl FnMut() -> String,
) -> Result<(), String> {
    let volumes = list(&Value::Object(spec.clone()), "volumes")?.to_vec();
    let existing = volumes
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .find(|name| name.starts_with(TOKEN_VOLUME_PREFIX))
        .map(str::to_string);
    let volume_name = match &existing {
        Some(name) => name.clone(),
        // Any existing `kube-api-access-*` volume was taken above, so a new name cannot clash.
        None => format!("{TOKEN_VOLUME_PREFIX}{}", suffix()),
    };
    let mount = json!({
        "name": volume_name,
        "readOnly": true,
        "mountPath": TOKEN_MOUNT_PATH,
    });
    let mut mounted = false;
    for field in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(field) else {
            continue;
        };
        let Value::Array(containers) = containers else {
            if containers.is_null() {
                continue;
            }
            return Err(format!("spec.{field} must be a list"));
        };
        for container in containers {
            let Some(container) = container.as_object_mut() else {
                return Err(format!("spec.{field} entries must be objects"));
            };
            let mounts = array_entry(container, "volumeMounts")?;
            let already = mounts
                .iter()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH));
            if !already {
                mounts.push(mount.clone());
                mounted = true;
            }
        }
    }
    if mounted && existing.is_none() {
        array_entry(spec, "volumes")?.push(token_volume(&volume_name));
    }
    Ok(())
}

/// The projected volume Kubernetes adds, with its defaults spelled out (`defaultMode` 0644).
pub fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {
                    "expirationSeconds": PROJECTED_TOKEN_EXPIRATION_SECONDS,
                    "path": "token",
                }},
                {"configMap": {
                    "name": super::root_ca::ROOT_CA_CONFIGMAP,
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }},
                {"downwardAPI": {
                    "items": [{
                        "path": "namespace",
                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                    }],
                }},
            ],
        },
    })
}

fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..NAME_SUFFIX_LEN)
        .map(|_| char::from(NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())]))
        .collect()
}

fn enforces_mountable_secrets(account: &Value) -> bool {
    metadata_map(account, "annotations")
        .and_then(|a| a.get(ENFORCE_MOUNTABLE_SECRETS_ANNOTATION))
        .and_then(Value::as_str)
        == Some("true")
}

/// With the enforce annotation, every Secret a pod uses (volumes, env, envFrom) must be listed in
/// the account's `secrets`, and pull secrets in its `imagePullSecrets`.
fn check_mountable_secrets(
    spec: &Map<String, Value>,
    account: &Value,
    account_name: &str,
) -> Result<(), String> {
    let names = |field: &str| -> Vec<String> {
        list(account, field)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let allowed = names("secrets");
    let allowed_pull = names("imagePullSecrets");
    let spec_value = Value::Object(spec.clone());
    for secret in pod_secret_names(&spec_value)? {
        if !allowed.contains(&secret) {
            return Err(format!(
                "volume with secret.secretName=\"{secret}\" is not allowed because service account {account_name} does not reference that secret"
            ));
        }
    }
    for pull in list(&spec_value, "imagePullSecrets")? {
        let name = pull.get("name").and_then(Value::as_str).unwrap_or("");
        if !allowed_pull.iter().any(|a| a == name) {
            return Err(format!(
                "image pull secret \"{name}\" is not allowed because service account {account_name} does not reference that image pull secret"
            ));
        }
    }
    Ok(())
}

/// Names of the Secrets a pod spec references through volumes, env and envFrom.
fn pod_secret_names(spec: &Value) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut push = |name: Option<&str>| {
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            names.push(name.to_string());
        }
    };
    for volume in list(spec, "volumes")? {
        push(str_at(volume, &["secret", "secretName"]));
        for source in volume
            .get("projected")
            .map(|p| list(p, "sources"))
            .transpose()?
            .unwrap_or_default()
        {
            push(str_at(source, &["secret", "name"]));
        }
    }
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        for container in list(spec, field)? {
            for env in list(container, "env")? {
                push(str_at(env, &["valueFrom", "secretKeyRef", "name"]));
            }
            for from in list(container, "envFrom")? {
                push(str_at(from, &["secretRef", "name"]));
            }
        }
    }
    Ok(names)
}

/// Mirror pods (the API copies of static pods) may not reference API objects at all.
fn validate_mirror_pod(pod: &Value) -> Result<(), String> {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let account = [
        str_at(spec, &["serviceAccountName"]),
        str_at(spec, &["serviceAccount"]),
    ];
    if account.into_iter().flatten().any(|n| !n.is_empty()) {
        return Err("a mirror pod may not reference service accounts".to_string());
    }
    if !pod_secret_names(spec)?.is_empty() {
        return Err("a mirror pod may not reference secrets".to_string());
    }
    for volume in list(spec, "volumes")? {
        let projected_config_map = volume
            .get("projected")
            .map(|p| list(p, "sources"))
            .transpose()?
            .unwrap_or_default()
            .iter()
            .any(|s| s.get("configMap").is_some());
        if volume.get("configMap").is_some() || projected_config_map {
            return Err("a mirror pod may not reference configmaps".to_string());
        }
    }
    Ok(())
}
