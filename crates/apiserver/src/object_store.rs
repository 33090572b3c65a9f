//! API objects in the store: keys from the registry, JSON encoding, and
//! `metadata.resourceVersion` taken from the store's revision (never stored in the value).

use std::sync::Arc;

use peapod_store::{KeyValue, Revision, Store, StoreError};
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::object_meta;
use crate::registry::ResourceInfo;

#[derive(Clone)]
pub struct Objects {
    pub store: Arc<dyn Store>,
}

/// Parses a stored value and stamps its resourceVersion.
pub fn decode(kv: &KeyValue) -> ApiResult<Value> {
    let mut v: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("decode {}: {e}", kv.key)))?;
    object_meta::set_meta(
        &mut v,
        "resourceVersion",
        Value::String(kv.mod_revision.to_string()),
    );
    Ok(v)
}

fn encode(obj: &Value) -> ApiResult<Vec<u8>> {
    let mut obj = obj.clone();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        // ObjectMeta's lists and maps are `omitempty` in Kubernetes: `[]`/`{}` read back as absent.
        for f in [
            "finalizers",
            "ownerReferences",
            "labels",
            "annotations",
            "managedFields",
        ] {
            let empty = match m.get(f) {
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                Some(Value::Null) => true,
                _ => false,
            };
            if empty {
                m.remove(f);
            }
        }
    }
    serde_json::to_vec(&obj).map_err(|e| ApiError::internal(e.to_string()))
}

impl Objects {
    pub async fn get(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
    ) -> ApiResult<Option<(Value, Revision)>> {
        match self.store.get(&res.key(ns, name)).await? {
            Some(kv) => Ok(Some((decode(&kv)?, kv.mod_revision))),
            None => Ok(None),
        }
    }

    pub async fn must_get(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
    ) -> ApiResult<(Value, Revision)> {
        self.get(res, ns, name)
            .await?
            .ok_or_else(|| ApiError::not_found(res, name))
    }

    pub async fn create(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
        obj: &Value,
    ) -> ApiResult<Value> {
        match self.store.create(&res.key(ns, name), encode(obj)?).await {
            Ok(kv) => with_rv(obj, kv.mod_revision),
            Err(StoreError::AlreadyExists) => Err(ApiError::already_exists(res, name)),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn update(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
        expected: Revision,
        obj: &Value,
    ) -> ApiResult<Value> {
        match self
            .store
            .update(&res.key(ns, name), Some(expected), encode(obj)?)
            .await
        {
            Ok(kv) => with_rv(obj, kv.mod_revision),
            Err(StoreError::Conflict { .. }) => Err(ApiError::conflict(res, name)),
            Err(StoreError::NotFound) => Err(ApiError::not_found(res, name)),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        name: &str,
        expected: Revision,
    ) -> ApiResult<Value> {
        match self.store.delete(&res.key(ns, name), Some(expected)).await {
            Ok(kv) => decode(&kv),
            Err(StoreError::Conflict { .. }) => Err(ApiError::conflict(res, name)),
            Err(StoreError::NotFound) => Err(ApiError::not_found(res, name)),
            Err(e) => Err(e.into()),
        }
    }
}

fn with_rv(obj: &Value, rev: Revision) -> ApiResult<Value> {
    let mut out = obj.clone();
    object_meta::set_meta(&mut out, "resourceVersion", Value::String(rev.to_string()));
    Ok(out)
}
