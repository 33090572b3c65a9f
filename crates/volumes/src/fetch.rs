//! Fetching what payloads need from the API server, each object once per pass.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret, Volume};
use kube::{Api, Client};
use serde_json::Value;

use crate::payload::{self, Inputs, Lookup, Reference};
use crate::tokens::{TokenCache, TokenSpec};

/// The message of an API error (the Status text), or the client error.
pub(crate) fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// Objects fetched during one `prepare` call or one refresh pass, so pods and volumes that
/// share a ConfigMap or Secret read it once.
#[derive(Default)]
pub(crate) struct PassCache {
    config_maps: HashMap<(String, String), Lookup<ConfigMap>>,
    secrets: HashMap<(String, String), Lookup<Secret>>,
    node_allocatable: Option<Value>,
}

/// Fetches what `volume` of `pod` needs.
pub(crate) struct Fetcher<'a> {
    pub client: &'a Client,
    pub node_name: &'a str,
    pub tokens: &'a TokenCache,
}

impl Fetcher<'_> {
    pub(crate) async fn inputs(&self, cache: &mut PassCache, pod: &Pod, volume: &Volume) -> Inputs {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let mut inputs = Inputs::default();
        for reference in payload::references(volume) {
            match reference {
                Reference::ConfigMap(name) => {
                    let found = self.config_map(cache, &namespace, &name).await;
                    inputs.config_maps.insert(name, found);
                }
                Reference::Secret(name) => {
                    let found = self.secret(cache, &namespace, &name).await;
                    inputs.secrets.insert(name, found);
                }
                Reference::Node => inputs.node_allocatable = self.node_allocatable(cache).await,
                Reference::Token {
                    index,
                    audience,
                    expiration_seconds,
                } => {
                    let spec = TokenSpec {
                        service_account: service_account(pod),
                        audience,
                        expiration_seconds,
                    };
                    let key = (
                        pod.metadata.uid.clone().unwrap_or_default(),
                        volume.name.clone(),
                        index,
                    );
                    let token = self.tokens.token(self.client, pod, key, spec).await;
                    inputs.tokens.insert(index, token);
                }
            }
        }
        inputs
    }

    async fn config_map(&self, cache: &mut PassCache, ns: &str, name: &str) -> Lookup<ConfigMap> {
        let key = (ns.to_string(), name.to_string());
        if let Some(found) = cache.config_maps.get(&key) {
            return found.clone();
        }
        let found = lookup(Api::<ConfigMap>::namespaced(self.client.clone(), ns), name).await;
        cache.config_maps.insert(key, found.clone());
        found
    }

    async fn secret(&self, cache: &mut PassCache, ns: &str, name: &str) -> Lookup<Secret> {
        let key = (ns.to_string(), name.to_string());
        if let Some(found) = cache.secrets.get(&key) {
            return found.clone();
        }
        let found = lookup(Api::<Secret>::namespaced(self.client.clone(), ns), name).await;
        cache.secrets.insert(key, found.clone());
        found
    }

    /// The node's allocatable resources; `null` when the node cannot be read (the Downward
    /// API then reports what it can without them).
    async fn node_allocatable(&self, cache: &mut PassCache) -> Value {
        if let Some(found) = &cache.node_allocatable {
            return found.clone();
        }
        let api = Api::<Node>::all(self.client.clone());
        let allocatable = match api.get_opt(self.node_name).await {
            Ok(Some(node)) => node
                .status
                .and_then(|s| s.allocatable)
                .and_then(|a| serde_json::to_value(a).ok())
                .unwrap_or(Value::Null),
            Ok(None) => Value::Null,
            Err(e) => {
                tracing::warn!(node = self.node_name, error = %api_message(&e), "read node");
                Value::Null
            }
        };
        cache.node_allocatable = Some(allocatable.clone());
        allocatable
    }
}

async fn lookup<K>(api: Api<K>, name: &str) -> Lookup<K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.get_opt(name).await {
        Ok(Some(object)) => Lookup::Found(object),
        Ok(None) => Lookup::Missing,
        Err(e) => Lookup::Failed(api_message(&e)),
    }
}

/// The pod's ServiceAccount (`default` when unset).
fn service_account(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string())
}
