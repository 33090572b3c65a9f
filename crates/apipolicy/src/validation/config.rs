//! ConfigMap and Secret: keys, sizes, type-specific keys and immutability.

use super::errors::{key, Errs, Shown};
use super::names;
use crate::json::{bool_at, str_at};
use base64::Engine;
use serde_json::{Map, Value};

const MAX_SIZE: usize = 1024 * 1024;

fn data_map<'a>(obj: &'a Value, field: &str, errs: &mut Errs) -> Option<&'a Map<String, Value>> {
    match obj.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            errs.type_invalid(field, Shown::json(other), "must be a map of strings");
            None
        }
    }
}

pub fn validate_config_map(cm: &Value, errs: &mut Errs) {
    let data = data_map(cm, "data", errs);
    let binary = data_map(cm, "binaryData", errs);
    let mut total = 0usize;
    for (k, v) in data.into_iter().flatten() {
        errs.invalid_each(&key("data", k), k, names::config_map_key(k));
        match v.as_str() {
            Some(s) => total += s.len(),
            None => errs.type_invalid(&key("data", k), Shown::json(v), "must be a string"),
        }
    }
    for (k, v) in binary.into_iter().flatten() {
        errs.invalid_each(&key("binaryData", k), k, names::config_map_key(k));
        if data.is_some_and(|d| d.contains_key(k)) {
            errs.invalid(
                &key("binaryData", k),
                k.as_str(),
                "duplicate of key present in data",
            );
        }
        total += decode_base64(v, &key("binaryData", k), errs).map_or(0, |b| b.len());
    }
    if total > MAX_SIZE {
        errs.too_long("", MAX_SIZE);
    }
}

fn decode_base64(v: &Value, path: &str, errs: &mut Errs) -> Option<Vec<u8>> {
    let Some(s) = v.as_str() else {
        errs.type_invalid(path, Shown::json(v), "must be a base64-encoded string");
        return None;
    };
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(b) => Some(b),
        Err(e) => {
            let detail = match e {
                base64::DecodeError::InvalidByte(at, _)
                | base64::DecodeError::InvalidLastSymbol(at, _) => {
                    format!("illegal base64 data at input byte {at}")
                }
                base64::DecodeError::InvalidLength(at) => {
                    format!("illegal base64 data at input byte {at}")
                }
                base64::DecodeError::InvalidPadding => {
                    "illegal base64 data: invalid padding".to_string()
                }
            };
            errs.invalid(path, s, &detail);
            None
        }
    }
}

pub fn validate_secret(secret: &Value, errs: &mut Errs) {
    let data = data_map(secret, "data", errs);
    let mut total = 0usize;
    let mut decoded: Map<String, Value> = Map::new();
    for (k, v) in data.into_iter().flatten() {
        let path = key("data", k);
        errs.invalid_each(&path, k, names::config_map_key(k));
        if let Some(bytes) = decode_base64(v, &path, errs) {
            total += bytes.len();
            decoded.insert(
                k.clone(),
                Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            );
        }
    }
    if total > MAX_SIZE {
        errs.too_long("data", MAX_SIZE);
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    match str_at(secret, &["type"]).unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let name = str_at(
                secret,
                &[
                    "metadata",
                    "annotations",
                    "kubernetes.io/service-account.name",
                ],
            );
            if name.unwrap_or("").is_empty() {
                errs.required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                );
            }
        }
        "kubernetes.io/dockercfg" => require_json_key(".dockercfg", has, &decoded, errs),
        "kubernetes.io/dockerconfigjson" => {
            require_json_key(".dockerconfigjson", has, &decoded, errs)
        }
        "kubernetes.io/basic-auth" => {
            if !has("username") && !has("password") {
                errs.required("data[username]", "");
                errs.required("data[password]", "");
            }
        }
        "kubernetes.io/ssh-auth" => {
            if !has("ssh-privatekey") {
                errs.required("data[ssh-privatekey]", "");
            }
        }
        "kubernetes.io/tls" => {
            for k in ["tls.key", "tls.crt"] {
                if !has(k) {
                    errs.required(&key("data", k), "");
                }
            }
        }
        "" => errs.required("type", ""),
        other => errs.invalid_each("type", other, names::qualified_name(other)),
    }
}

fn require_json_key(
    k: &str,
    has: impl Fn(&str) -> bool,
    decoded: &Map<String, Value>,
    errs: &mut Errs,
) {
    let path = key("data", k);
    if !has(k) {
        errs.required(&path, "");
        return;
    }
    if let Some(text) = decoded.get(k).and_then(Value::as_str) {
        if let Err(e) = serde_json::from_str::<Value>(text) {
            errs.invalid(&path, "<secret contents redacted>", &e.to_string());
        }
    }
}

/// `immutable: true` freezes the payload and cannot be undone.
pub fn validate_immutable_update(old: &Value, new: &Value, fields: &[&str], errs: &mut Errs) {
    if bool_at(old, &["immutable"]) != Some(true) {
        return;
    }
    if bool_at(new, &["immutable"]) != Some(true) {
        errs.forbidden("immutable", "field is immutable when `immutable` is set");
    }
    for f in fields {
        let empty = Value::Object(Map::new());
        let norm = |v: Option<&Value>| v.filter(|v| !v.is_null()).unwrap_or(&empty).clone();
        if norm(old.get(*f)) != norm(new.get(*f)) {
            errs.forbidden(f, "field is immutable when `immutable` is set");
        }
    }
}

pub fn validate_secret_update(old: &Value, new: &Value, errs: &mut Errs) {
    let (o, n) = (
        str_at(old, &["type"]).unwrap_or(""),
        str_at(new, &["type"]).unwrap_or(""),
    );
    if o != n {
        errs.invalid("type", n, "field is immutable");
    }
    validate_immutable_update(old, new, &["data"], errs);
}
