//! A minimal OpenAPI v3: for every kind, a PATCH operation that names its
//! group/version/kind and accepts `fieldValidation`. That tells kubectl the server
//! validates fields itself, so `kubectl apply` sends `fieldValidation=Strict` and skips
//! client-side schema validation (see shared/reference/kubectl-protocol.md §3).

use serde_json::{json, Map, Value};

use crate::registry;

const HASH: &str = concat!("peapod-", env!("CARGO_PKG_VERSION"));

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

pub fn root() -> Value {
    let mut paths = Map::new();
    for (g, v) in registry::group_versions() {
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={HASH}")}),
        );
    }
    json!({"paths": paths})
}

/// The document for `path` (e.g. `api/v1`, `apis/apps/v1`).
pub fn document(path: &str) -> Option<Value> {
    let (g, v) = registry::group_versions()
        .into_iter()
        .find(|(g, v)| gv_path(g, v) == path)?;
    let mut paths = Map::new();
    for r in registry::all()
        .iter()
        .filter(|r| r.gvk.group == g && r.gvk.version == v)
    {
        let item = if r.namespaced {
            format!("/{path}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("/{path}/{}/{{name}}", r.plural)
        };
        let op = json!({
            "x-kubernetes-group-version-kind": {"group": g, "version": v, "kind": r.gvk.kind},
            "parameters": [
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            ],
            "responses": {"200": {"description": "OK"}},
        });
        paths.insert(item, json!({"patch": op}));
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::version::GIT_VERSION},
        "paths": paths,
    }))
}
