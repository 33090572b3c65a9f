//! Pod volumes and container volume mounts.

use super::env::{validate_object_field_selector, validate_resource_field_selector};
use super::errors::{child, index, Errs, Shown};
use super::names;
use crate::json::{arr_at, i64_at, str_at};
use peapod_apimachinery::quantity::{Quantity, QUANTITY_FORMAT_MSG};
use serde_json::Value;
use std::collections::HashSet;

/// Every volume source a Volume may carry (exactly one must be set), in the order Kubernetes
/// checks them: the first one set is kept, later ones are reported.
const VOLUME_SOURCES: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
];

const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

const MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// Validates `volumes` and returns the set of declared names (for mount checks).
pub fn validate_volumes(vols: &[Value], path: &str, errs: &mut Errs) -> HashSet<String> {
    let mut seen = HashSet::new();
    for (i, v) in vols.iter().enumerate() {
        let p = index(path, i);
        let name_path = child(&p, "name");
        match str_at(v, &["name"]).unwrap_or("") {
            "" => errs.required(&name_path, ""),
            n => {
                errs.invalid_each(&name_path, n, names::dns1123_label(n));
                if !seen.insert(n.to_string()) {
                    errs.duplicate(&name_path, n);
                }
            }
        }
        validate_volume_source(v, &p, errs);
    }
    seen
}

fn validate_volume_source(v: &Value, path: &str, errs: &mut Errs) {
    let set: Vec<&str> = VOLUME_SOURCES
        .iter()
        .copied()
        .filter(|k| v.get(*k).is_some_and(|x| !x.is_null()))
        .collect();
    if set.is_empty() {
        errs.required(path, "must specify a volume type");
        return;
    }
    for extra in &set[1..] {
        errs.forbidden(
            &child(path, extra),
            "may not specify more than 1 volume type",
        );
    }
    let kind = set[0];
    let src = &v[kind];
    let p = child(path, kind);
    match kind {
        "hostPath" => {
            let hp = str_at(src, &["path"]).unwrap_or("");
            if hp.is_empty() {
                errs.required(&child(&p, "path"), "");
            } else if has_backstep(hp) {
                errs.invalid(&child(&p, "path"), hp, "must not contain '..'");
            }
            errs.enum_value(&child(&p, "type"), src.get("type"), HOST_PATH_TYPES, false);
        }
        "emptyDir" => {
            let medium = str_at(src, &["medium"]).unwrap_or("");
            if !(medium.is_empty() || medium == "Memory" || medium.starts_with("HugePages")) {
                errs.not_supported(&child(&p, "medium"), medium, &["", "HugePages", "Memory"]);
            }
            if let Some(q) = src.get("sizeLimit").filter(|q| !q.is_null()) {
                validate_quantity_value(q, &child(&p, "sizeLimit"), errs);
            }
        }
        "configMap" => {
            if str_at(src, &["name"]).unwrap_or("").is_empty() {
                errs.required(&child(&p, "name"), "");
            }
            validate_key_to_paths(src, &p, errs);
        }
        "secret" => {
            if str_at(src, &["secretName"]).unwrap_or("").is_empty() {
                errs.required(&child(&p, "secretName"), "");
            }
            validate_key_to_paths(src, &p, errs);
        }
        "persistentVolumeClaim" if str_at(src, &["claimName"]).unwrap_or("").is_empty() => {
            errs.required(&child(&p, "claimName"), "");
        }
        "nfs" => {
            if str_at(src, &["server"]).unwrap_or("").is_empty() {
                errs.required(&child(&p, "server"), "");
            }
            match str_at(src, &["path"]).unwrap_or("") {
                "" => errs.required(&child(&p, "path"), ""),
                np if !np.starts_with('/') => {
                    errs.invalid(&child(&p, "path"), np, "must be an absolute path")
                }
                _ => {}
            }
        }
        "downwardAPI" => {
            validate_mode(src.get("defaultMode"), &child(&p, "defaultMode"), errs);
            validate_downward_items(arr_at(src, &["items"]), &child(&p, "items"), errs);
        }
        "projected" => validate_projected(src, &p, errs),
        "image" if str_at(src, &["reference"]).unwrap_or("").is_empty() => {
            errs.required(&child(&p, "reference"), "");
        }
        _ => {}
    }
}

fn validate_mode(mode: Option<&Value>, path: &str, errs: &mut Errs) {
    if let Some(m) = errs.int_or_report(path, mode) {
        if !(0..=0o777).contains(&m) {
            errs.invalid(path, m, MODE_MSG);
        }
    }
}

/// `items` of configMap/secret sources plus their `defaultMode`.
fn validate_key_to_paths(src: &Value, path: &str, errs: &mut Errs) {
    validate_mode(src.get("defaultMode"), &child(path, "defaultMode"), errs);
    for (i, item) in arr_at(src, &["items"]).iter().enumerate() {
        let p = index(&child(path, "items"), i);
        match str_at(item, &["key"]).unwrap_or("") {
            "" => errs.required(&child(&p, "key"), ""),
            k => errs.invalid_each(&child(&p, "key"), k, names::config_map_key(k)),
        }
        validate_item_path(item, &p, errs);
        validate_mode(item.get("mode"), &child(&p, "mode"), errs);
    }
}

fn validate_item_path(item: &Value, p: &str, errs: &mut Errs) {
    let path_field = child(p, "path");
    match str_at(item, &["path"]).unwrap_or("") {
        "" => errs.required(&path_field, ""),
        ip => {
            for m in local_descending_path(ip) {
                errs.invalid(&path_field, ip, m);
            }
            if ip.starts_with("..") {
                errs.invalid(&path_field, ip, "must not start with '..'");
            }
        }
    }
}

fn validate_downward_items(items: &[Value], path: &str, errs: &mut Errs) {
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        validate_item_path(item, &p, errs);
        validate_mode(item.get("mode"), &child(&p, "mode"), errs);
        let field_ref = item.get("fieldRef").filter(|v| !v.is_null());
        let res_ref = item.get("resourceFieldRef").filter(|v| !v.is_null());
        match (field_ref, res_ref) {
            (Some(f), None) => {
                validate_object_field_selector(f, true, &child(&p, "fieldRef"), errs)
            }
            (None, Some(r)) => {
                validate_resource_field_selector(r, true, &child(&p, "resourceFieldRef"), errs)
            }
            (Some(_), Some(_)) => errs.invalid(
                &child(&p, "fieldRef"),
                "",
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ),
            (None, None) => errs.required(&p, "one of fieldRef and resourceFieldRef is required"),
        }
    }
}

fn validate_projected(src: &Value, path: &str, errs: &mut Errs) {
    validate_mode(src.get("defaultMode"), &child(path, "defaultMode"), errs);
    for (i, s) in arr_at(src, &["sources"]).iter().enumerate() {
        let p = index(&child(path, "sources"), i);
        let kinds: Vec<&str> = [
            "secret",
            "configMap",
            "downwardAPI",
            "serviceAccountToken",
            "clusterTrustBundle",
        ]
        .into_iter()
        .filter(|k| s.get(*k).is_some_and(|x| !x.is_null()))
        .collect();
        if kinds.len() > 1 {
            for k in &kinds[1..] {
                errs.forbidden(
                    &child(&p, k),
                    "may not specify more than 1 volume type per source",
                );
            }
        }
        match kinds.first().copied() {
            Some("secret") | Some("configMap") => {
                let sp = child(&p, kinds[0]);
                for (j, item) in arr_at(&s[kinds[0]], &["items"]).iter().enumerate() {
                    let ip = index(&child(&sp, "items"), j);
                    if str_at(item, &["key"]).unwrap_or("").is_empty() {
                        errs.required(&child(&ip, "key"), "");
                    }
                    validate_item_path(item, &ip, errs);
                }
            }
            Some("downwardAPI") => {
                let sp = child(&p, "downwardAPI");
                validate_downward_items(
                    arr_at(&s["downwardAPI"], &["items"]),
                    &child(&sp, "items"),
                    errs,
                );
            }
            Some("serviceAccountToken") => {
                let sp = child(&p, "serviceAccountToken");
                let tok = &s["serviceAccountToken"];
                if let Some(secs) = i64_at(tok, &["expirationSeconds"]) {
                    let ep = child(&sp, "expirationSeconds");
                    if secs < 600 {
                        errs.invalid(&ep, secs, "may not specify a duration less than 10 minutes");
                    } else if secs > 1 << 32 {
                        errs.invalid(
                            &ep,
                            secs,
                            "may not specify a duration larger than 2^32 seconds",
                        );
                    }
                }
                if str_at(tok, &["path"]).unwrap_or("").is_empty() {
                    errs.required(&child(&sp, "path"), "");
                }
            }
            _ => {}
        }
    }
}

fn has_backstep(p: &str) -> bool {
    p.split(['/', '\\']).any(|seg| seg == "..")
}

/// Paths that must stay inside the volume: relative and without `..` components.
pub fn local_descending_path(p: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if p.starts_with('/') || p.starts_with('\\') {
        out.push("must be a relative path");
    }
    if has_backstep(p) {
        out.push("must not contain '..'");
    }
    out
}

pub fn validate_quantity_value(q: &Value, path: &str, errs: &mut Errs) -> Option<Quantity> {
    let text = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            errs.type_invalid(path, Shown::json(other), QUANTITY_FORMAT_MSG);
            return None;
        }
    };
    match Quantity::parse(&text) {
        Err(e) => {
            errs.invalid(path, text.as_str(), e.validation_message());
            None
        }
        Ok(parsed) if parsed.is_negative() => {
            errs.invalid(path, text.as_str(), "must be greater than or equal to 0");
            None
        }
        Ok(parsed) => Some(parsed),
    }
}

const MOUNT_PROPAGATIONS: &[&str] = &["Bidirectional", "HostToContainer", "None"];

pub fn validate_volume_mounts(
    mounts: &[Value],
    volumes: Option<&HashSet<String>>,
    path: &str,
    errs: &mut Errs,
) {
    let mut mount_points = HashSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let p = index(path, i);
        let name_path = child(&p, "name");
        match str_at(m, &["name"]).unwrap_or("") {
            "" => errs.required(&name_path, ""),
            n => {
                if volumes.is_some_and(|vols| !vols.contains(n)) {
                    errs.not_found(&name_path, n);
                }
            }
        }
        let mp_path = child(&p, "mountPath");
        match str_at(m, &["mountPath"]).unwrap_or("") {
            "" => errs.required(&mp_path, ""),
            mp => {
                if !mount_points.insert(mp.to_string()) {
                    errs.invalid(&mp_path, mp, "must be unique");
                }
            }
        }
        let sub_path = str_at(m, &["subPath"]).unwrap_or("");
        for msg in local_descending_path(sub_path) {
            errs.invalid(&child(&p, "subPath"), sub_path, msg);
        }
        let sub_expr = str_at(m, &["subPathExpr"]).unwrap_or("");
        if !sub_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.invalid(
                    &child(&p, "subPathExpr"),
                    sub_expr,
                    "subPathExpr and subPath are mutually exclusive",
                );
            }
            for msg in local_descending_path(sub_expr) {
                errs.invalid(&child(&p, "subPathExpr"), sub_expr, msg);
            }
        }
        errs.enum_value(
            &child(&p, "mountPropagation"),
            m.get("mountPropagation"),
            MOUNT_PROPAGATIONS,
            false,
        );
        errs.enum_value(
            &child(&p, "recursiveReadOnly"),
            m.get("recursiveReadOnly"),
            &["Disabled", "Enabled", "IfPossible"],
            false,
        );
    }
}
