//! Loading the network configuration list from the CNI conf dir (libcni rules:
//! first file in lexical order among `*.conflist`, `*.conf`, `*.json`; a single
//! plugin `.conf` becomes a one-plugin list).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{NetworkError, Result};

/// A parsed network configuration list; `raw` is kept verbatim for the result cache.
#[derive(Debug, Clone)]
pub(crate) struct NetworkConfigList {
    pub name: String,
    pub cni_version: String,
    pub disable_check: bool,
    pub plugins: Vec<Map<String, Value>>,
    pub raw: Value,
}

impl NetworkConfigList {
    pub fn from_value(raw: Value, source: PathBuf) -> Result<Self> {
        let bad = |msg: &str| NetworkError::Cni(format!("{}: {msg}", source.display()));
        let obj = raw.as_object().ok_or_else(|| bad("not a JSON object"))?;
        // A single-plugin .conf: wrap it as a list.
        let raw = if obj.contains_key("plugins") {
            raw.clone()
        } else {
            let mut plugin = obj.clone();
            let name = plugin.remove("name").unwrap_or(Value::Null);
            let version = plugin.remove("cniVersion").unwrap_or(Value::Null);
            json!({ "name": name, "cniVersion": version, "plugins": [plugin] })
        };
        let name = raw
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("missing \"name\""))?;
        let cni_version = raw
            .get("cniVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing \"cniVersion\""))?;
        let disable_check = raw
            .get("disableCheck")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let plugins = raw
            .get("plugins")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad("\"plugins\" must be a non-empty array"))?;
        let mut out = Vec::new();
        for p in plugins {
            let p = p
                .as_object()
                .ok_or_else(|| bad("a plugin is not an object"))?;
            let ty = p
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("a plugin has no \"type\""))?;
            if ty.is_empty() || ty.contains('/') || ty.starts_with('.') {
                return Err(bad(&format!(
                    "plugin type {ty:?} is not a plain executable name"
                )));
            }
            out.push(p.clone());
        }
        Ok(NetworkConfigList {
            name: name.to_string(),
            cni_version: cni_version.to_string(),
            disable_check,
            plugins: out,
            raw,
        })
    }

    /// The stdin document for one plugin: its config plus list name/version,
    /// the previous result and the runtime config of declared capabilities.
    pub fn plugin_stdin(
        &self,
        plugin: &Map<String, Value>,
        prev_result: Option<&Value>,
        runtime: &Map<String, Value>,
    ) -> Value {
        let mut conf = plugin.clone();
        conf.insert("name".into(), Value::String(self.name.clone()));
        conf.insert("cniVersion".into(), Value::String(self.cni_version.clone()));
        if let Some(prev) = prev_result {
            conf.insert("prevResult".into(), prev.clone());
        }
        let caps = plugin.get("capabilities").and_then(Value::as_object);
        let mut rc = Map::new();
        for (key, value) in runtime {
            if caps.and_then(|c| c.get(key)).and_then(Value::as_bool) == Some(true) {
                rc.insert(key.clone(), value.clone());
            }
        }
        if !rc.is_empty() {
            conf.insert("runtimeConfig".into(), Value::Object(rc));
        }
        Value::Object(conf)
    }

    /// CHECK exists from spec 0.4.0 on.
    pub fn supports_check(&self) -> bool {
        !self.disable_check
            && !matches!(
                self.cni_version.as_str(),
                "0.1.0" | "0.2.0" | "0.3.0" | "0.3.1"
            )
    }
}

/// Loads the first usable configuration of `dir`.
pub(crate) fn load_first(dir: &Path) -> Result<NetworkConfigList> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| NetworkError::io("reading CNI conf dir", dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("conflist" | "conf" | "json")
            )
        })
        .collect();
    files.sort();
    let mut errors = Vec::new();
    for file in files {
        let parsed = std::fs::read(&file)
            .map_err(|e| NetworkError::io("reading CNI config", &file, e))
            .and_then(|b| {
                serde_json::from_slice(&b)
                    .map_err(|e| NetworkError::Cni(format!("{}: {e}", file.display())))
            })
            .and_then(|v| NetworkConfigList::from_value(v, file.clone()));
        match parsed {
            Ok(list) => return Ok(list),
            Err(e) => errors.push(e.to_string()),
        }
    }
    Err(NetworkError::Cni(format!(
        "no usable network configuration in {}: [{}]",
        dir.display(),
        errors.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_single_conf_and_injects_capabilities() {
        let conf = json!({"cniVersion": "1.0.0", "name": "n", "type": "bridge", "bridge": "b0"});
        let list = NetworkConfigList::from_value(conf, "x.conf".into()).expect("valid");
        assert_eq!(list.name, "n");
        assert_eq!(list.plugins.len(), 1);
        assert_eq!(list.plugins[0].get("type"), Some(&json!("bridge")));
        assert!(list.supports_check());

        let mut runtime = Map::new();
        runtime.insert("portMappings".into(), json!([{"hostPort": 1}]));
        let plain = list.plugin_stdin(&list.plugins[0], Some(&json!({"ips": []})), &runtime);
        assert_eq!(plain.get("prevResult"), Some(&json!({"ips": []})));
        assert!(
            plain.get("runtimeConfig").is_none(),
            "bridge did not declare portMappings"
        );

        let portmap = json!({"type": "portmap", "capabilities": {"portMappings": true}});
        let portmap = portmap.as_object().expect("object").clone();
        let with = list.plugin_stdin(&portmap, None, &runtime);
        assert_eq!(
            with.pointer("/runtimeConfig/portMappings/0/hostPort"),
            Some(&json!(1))
        );
        assert_eq!(with.get("name"), Some(&json!("n")));
    }

    #[test]
    fn rejects_bad_lists() {
        for bad in [
            json!([]),
            json!({"cniVersion": "1.0.0", "plugins": [{"type": "x"}]}),
            json!({"cniVersion": "1.0.0", "name": "n", "plugins": []}),
            json!({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "../evil"}]}),
            json!({"name": "n", "plugins": [{"type": "x"}]}),
        ] {
            assert!(
                NetworkConfigList::from_value(bad.clone(), "x".into()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn loads_first_in_lexical_order() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            tmp.path().join("20-b.conflist"),
            r#"{"cniVersion":"1.0.0","name":"b","plugins":[{"type":"x"}]}"#,
        )
        .expect("write");
        std::fs::write(
            tmp.path().join("10-a.conflist"),
            r#"{"cniVersion":"0.3.1","name":"a","plugins":[{"type":"x"}]}"#,
        )
        .expect("write");
        std::fs::write(tmp.path().join("05-broken.conflist"), "{").expect("write");
        let list = load_first(tmp.path()).expect("load");
        assert_eq!(list.name, "a");
        assert!(!list.supports_check());
    }
}
