//! Cache of ADD results so DEL and CHECK get the same config and prevResult, even
//! after an agent restart or a change of the conf dir (like libcni's results cache).

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{NetworkError, Result};
use crate::ipam::remove_if_present;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CacheEntry {
    pub container_id: String,
    pub if_name: String,
    pub network_name: String,
    pub netns: String,
    pub cni_args: String,
    /// Runtime config offered to capable plugins (`portMappings`).
    pub runtime_config: serde_json::Map<String, Value>,
    /// The configuration list used for ADD, verbatim.
    pub config: Value,
    /// Final result of the list; `Null` while ADD is in progress.
    pub result: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct ResultCache {
    dir: PathBuf,
}

impl ResultCache {
    pub fn open(dir: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir)
            .map_err(|e| NetworkError::io("creating CNI cache directory", &dir, e))?;
        Ok(ResultCache { dir })
    }

    fn path(&self, container_id: &str, if_name: &str) -> PathBuf {
        self.dir.join(format!("{container_id}-{if_name}.json"))
    }

    pub fn save(&self, entry: &CacheEntry) -> Result<()> {
        let path = self.path(&entry.container_id, &entry.if_name);
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| NetworkError::Cni(format!("encoding cache entry: {e}")))?;
        fs::write(&tmp, bytes).map_err(|e| NetworkError::io("writing CNI cache", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| NetworkError::io("renaming CNI cache", &path, e))
    }

    pub fn load(&self, container_id: &str, if_name: &str) -> Result<Option<CacheEntry>> {
        let path = self.path(container_id, if_name);
        match fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes)
                .map_err(|e| tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable CNI cache"))
                .ok()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NetworkError::io("reading CNI cache", &path, e)),
        }
    }

    pub fn remove(&self, container_id: &str, if_name: &str) -> Result<()> {
        remove_if_present(&self.path(container_id, if_name))
    }

    pub fn entries(&self) -> Result<Vec<CacheEntry>> {
        let list = fs::read_dir(&self.dir)
            .map_err(|e| NetworkError::io("listing CNI cache", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in list.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            if let Ok(bytes) = fs::read(&path) {
                if let Ok(e) = serde_json::from_slice::<CacheEntry>(&bytes) {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }
}
