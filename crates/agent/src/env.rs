//! Container environment as the kubelet builds it: `envFrom` (with prefixes), then `env` in
//! order with `$(VAR)` expansion against what is defined so far, `valueFrom` references read
//! through the API. A missing non-optional reference is a `CreateContainerConfigError`.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};
use kube::{Api, Client};
use peapod_admission::{expand_vars, resolve_field_ref, resolve_resource_field_ref};
use serde_json::{json, Value};

/// Ordered environment with "last definition wins" semantics.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Env {
    order: Vec<String>,
    values: HashMap<String, String>,
}

impl Env {
    pub fn set(&mut self, name: &str, value: String) {
        if !self.values.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.values.insert(name.to_string(), value);
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// `NAME=value` entries in definition order.
    pub fn to_list(&self) -> Vec<String> {
        self.order
            .iter()
            .map(|k| format!("{k}={}", self.values.get(k).map_or("", String::as_str)))
            .collect()
    }

    /// Expands `$(VAR)` in `s` with the variables defined so far.
    pub fn expand(&self, s: &str) -> String {
        expand_vars(s, |name| self.get(name))
    }
}

/// Reads ConfigMaps and Secrets of one namespace, each at most once per container start.
pub struct Sources<'a> {
    client: &'a Client,
    namespace: &'a str,
    config_maps: HashMap<String, Option<BTreeMap<String, String>>>,
    secrets: HashMap<String, Option<BTreeMap<String, String>>>,
}

impl<'a> Sources<'a> {
    pub fn new(client: &'a Client, namespace: &'a str) -> Self {
        Sources {
            client,
            namespace,
            config_maps: HashMap::new(),
            secrets: HashMap::new(),
        }
    }

    async fn config_map(&mut self, name: &str) -> Result<Option<BTreeMap<String, String>>, String> {
        if let Some(v) = self.config_maps.get(name) {
            return Ok(v.clone());
        }
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), self.namespace);
        let data = api
            .get_opt(name)
            .await
            .map_err(|e| format!("reading configmap {name:?}: {e}"))?
            .map(|cm| {
                let mut data = cm.data.unwrap_or_default();
                for (k, v) in cm.binary_data.unwrap_or_default() {
                    data.insert(k, String::from_utf8_lossy(&v.0).into_owned());
                }
                data
            });
        self.config_maps.insert(name.to_string(), data.clone());
        Ok(data)
    }

    async fn secret(&mut self, name: &str) -> Result<Option<BTreeMap<String, String>>, String> {
        if let Some(v) = self.secrets.get(name) {
            return Ok(v.clone());
        }
        let api: Api<Secret> = Api::namespaced(self.client.clone(), self.namespace);
        let data = api
            .get_opt(name)
            .await
            .map_err(|e| format!("reading secret {name:?}: {e}"))?
            .map(|s| {
                let mut data: BTreeMap<String, String> = s
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                    .collect();
                data.extend(s.string_data.unwrap_or_default());
                data
            });
        self.secrets.insert(name.to_string(), data.clone());
        Ok(data)
    }
}

/// What the env of a container may refer to besides the API.
pub struct EnvInputs<'a> {
    pub pod: &'a Pod,
    pub pod_ips: &'a [String],
    pub host_ip: &'a str,
    pub node_allocatable: &'a Value,
    /// Service variables (`KUBERNETES_SERVICE_HOST`...), defined first.
    pub service_env: &'a [(String, String)],
}

/// An environment variable name as Kubernetes accepts it since relaxed validation (GA in
/// 1.34): any printable ASCII but `=`, so ConfigMap keys such as `data-1` or `1st` qualify.
fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'=')
}

/// Keys of one `envFrom` source that could not become variables, for the kubelet's
/// `InvalidEnvironmentVariableNames` warning.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedKeys {
    /// `configMap` or `secret`, as the kubelet's message words it.
    pub source_kind: &'static str,
    pub source_name: String,
    pub keys: Vec<String>,
}

impl SkippedKeys {
    pub fn message(&self, namespace: &str) -> String {
        format!(
            "Keys [{}] from the EnvFrom {} {namespace}/{} were skipped since they are considered invalid environment variable names.",
            self.keys.join(", "),
            self.source_kind,
            self.source_name
        )
    }
}

/// The pod as JSON with the IPs the agent knows (they may not be in the API object yet).
fn pod_json(inputs: &EnvInputs<'_>) -> Value {
    let mut v = serde_json::to_value(inputs.pod).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let status = obj.entry("status").or_insert_with(|| json!({}));
        if let Some(st) = status.as_object_mut() {
            if let Some(ip) = inputs.pod_ips.first() {
                st.insert("podIP".into(), json!(ip));
                st.insert(
                    "podIPs".into(),
                    json!(inputs
                        .pod_ips
                        .iter()
                        .map(|i| json!({"ip": i}))
                        .collect::<Vec<_>>()),
                );
            }
            if !inputs.host_ip.is_empty() {
                st.insert("hostIP".into(), json!(inputs.host_ip));
                st.insert("hostIPs".into(), json!([{"ip": inputs.host_ip}]));
            }
        }
    }
    v
}

/// Builds the environment of `container`. The error is the message of the container's
/// `CreateContainerConfigError`.
pub async fn container_env(
    sources: &mut Sources<'_>,
    inputs: &EnvInputs<'_>,
    container: &Container,
) -> Result<(Env, Vec<SkippedKeys>), String> {
    let mut env = Env::default();
    let mut skipped = Vec::new();
    for (k, v) in inputs.service_env {
        env.set(k, v.clone());
    }
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        let (source_kind, source_name) = match (&from.config_map_ref, &from.secret_ref) {
            (Some(r), _) => ("configMap", r.name.clone()),
            (None, Some(r)) => ("secret", r.name.clone()),
            (None, None) => continue,
        };
        let data = if let Some(r) = &from.config_map_ref {
            let name = r.name.as_str();
            match sources.config_map(name).await? {
                Some(d) => d,
                None if r.optional == Some(true) => BTreeMap::new(),
                None => return Err(format!("configmap {name:?} not found")),
            }
        } else if let Some(r) = &from.secret_ref {
            let name = r.name.as_str();
            match sources.secret(name).await? {
                Some(d) => d,
                None if r.optional == Some(true) => BTreeMap::new(),
                None => return Err(format!("secret {name:?} not found")),
            }
        } else {
            continue;
        };
        let mut invalid = Vec::new();
        for (k, v) in data {
            let name = format!("{prefix}{k}");
            if valid_env_name(&name) {
                env.set(&name, v);
            } else {
                invalid.push(name);
            }
        }
        if !invalid.is_empty() {
            invalid.sort();
            skipped.push(SkippedKeys {
                source_kind,
                source_name,
                keys: invalid,
            });
        }
    }
    let pod_value = pod_json(inputs);
    for var in container.env.iter().flatten() {
        let value = match &var.value_from {
            None => env.expand(var.value.as_deref().unwrap_or("")),
            Some(src) => {
                if let Some(r) = &src.config_map_key_ref {
                    let optional = r.optional == Some(true);
                    match sources.config_map(&r.name).await? {
                        Some(d) => match d.get(&r.key) {
                            Some(v) => v.clone(),
                            None if optional => continue,
                            None => {
                                return Err(format!(
                                    "couldn't find key {} in ConfigMap {}/{}",
                                    r.key, sources.namespace, r.name
                                ))
                            }
                        },
                        None if optional => continue,
                        None => return Err(format!("configmap {:?} not found", r.name)),
                    }
                } else if let Some(r) = &src.secret_key_ref {
                    let optional = r.optional == Some(true);
                    match sources.secret(&r.name).await? {
                        Some(d) => match d.get(&r.key) {
                            Some(v) => v.clone(),
                            None if optional => continue,
                            None => {
                                return Err(format!(
                                    "couldn't find key {} in Secret {}/{}",
                                    r.key, sources.namespace, r.name
                                ))
                            }
                        },
                        None if optional => continue,
                        None => return Err(format!("secret {:?} not found", r.name)),
                    }
                } else if let Some(f) = &src.field_ref {
                    resolve_field_ref(&pod_value, &f.field_path)?
                } else if let Some(r) = &src.resource_field_ref {
                    let cname = r
                        .container_name
                        .clone()
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| container.name.clone());
                    resolve_resource_field_ref(
                        &pod_value,
                        &cname,
                        &r.resource,
                        r.divisor.as_ref().map(|d| d.0.as_str()),
                        inputs.node_allocatable,
                    )?
                } else {
                    String::new()
                }
            }
        };
        env.set(&var.name, value);
    }
    Ok((env, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_definitions_override_in_place() {
        let mut e = Env::default();
        e.set("A", "1".into());
        e.set("B", e.expand("$(A)-x"));
        e.set("A", "2".into());
        assert_eq!(e.to_list(), vec!["A=2", "B=1-x"]);
        assert_eq!(e.expand("$(MISSING) $$(A)"), "$(MISSING) $(A)");
    }

    #[test]
    fn env_names_are_relaxed() {
        for ok in [
            "CONFIG_a.b-1",
            "data-1",
            "p-data-1",
            "1A",
            "A B",
            ".",
            "a:b",
        ] {
            assert!(valid_env_name(ok), "{ok}");
        }
        for bad in ["", "A=B", "tab\there", "caf\u{e9}"] {
            assert!(!valid_env_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn skipped_keys_are_worded_as_the_kubelet_does() {
        let s = SkippedKeys {
            source_kind: "configMap",
            source_name: "cm".into(),
            keys: vec!["a=b".into(), "c=d".into()],
        };
        assert_eq!(
            s.message("ns"),
            "Keys [a=b, c=d] from the EnvFrom configMap ns/cm were skipped since they are considered invalid environment variable names."
        );
    }
}
