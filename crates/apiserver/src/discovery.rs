//! Discovery documents, aggregated (apidiscovery.k8s.io/v2) and legacy, all derived from
//! the resource registry.

use serde_json::{json, Value};

use crate::registry::{self, ResourceInfo};

pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Whether the client asked for the aggregated form (kubectl does, first).
pub fn wants_aggregated(accept: &str) -> bool {
    accept.contains("as=APIGroupDiscoveryList") && accept.contains("v=v2")
}

fn gvk_json(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn aggregated_resource(r: &ResourceInfo) -> Value {
    let subs: Vec<Value> = r
        .subresources
        .iter()
        .map(|s| {
            json!({
                "subresource": s.name,
                "responseKind": gvk_json(s.kind.group, s.kind.version, s.kind.kind),
                "verbs": s.verbs,
            })
        })
        .collect();
    let mut v = json!({
        "resource": r.plural,
        "responseKind": gvk_json(r.gvk.group, r.gvk.version, r.gvk.kind),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": VERBS,
    });
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    if !subs.is_empty() {
        v["subresources"] = Value::Array(subs);
    }
    v
}

/// `/api` (core only) or `/apis` (every named group), aggregated.
pub fn aggregated(core: bool) -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (g, v) in registry::group_versions() {
        if g.is_empty() != core {
            continue;
        }
        match groups.iter_mut().find(|(gg, _)| *gg == g) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((g, vec![v])),
        }
    }
    let items: Vec<Value> = groups
        .iter()
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = registry::all()
                        .iter()
                        .filter(|r| r.gvk.group == *g && r.gvk.version == *v)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let mut meta = json!({"creationTimestamp": null});
            if !g.is_empty() {
                meta["name"] = json!(g);
            }
            json!({"metadata": meta, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn api_group(group: &str) -> Value {
    let versions: Vec<Value> = registry::group_versions()
        .iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

pub fn api_group_list() -> Value {
    let mut names: Vec<&str> = Vec::new();
    for (g, _) in registry::group_versions() {
        if !g.is_empty() && !names.contains(&g) {
            names.push(g);
        }
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": names.iter().map(|g| api_group(g)).collect::<Vec<_>>()})
}

pub fn group(group: &str) -> Value {
    let mut g = api_group(group);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

pub fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for r in registry::all()
        .iter()
        .filter(|r| r.gvk.group == group && r.gvk.version == version)
    {
        let mut v = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.gvk.kind,
            "verbs": VERBS,
        });
        if !r.short_names.is_empty() {
            v["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            v["categories"] = json!(r.categories);
        }
        resources.push(v);
        for s in r.subresources {
            let mut sv = json!({
                "name": format!("{}/{}", r.plural, s.name),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": s.kind.kind,
                "verbs": s.verbs,
            });
            if s.kind.group != group {
                sv["group"] = json!(s.kind.group);
                sv["version"] = json!(s.kind.version);
            }
            resources.push(sv);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}
