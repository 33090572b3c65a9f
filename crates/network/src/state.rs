//! Per-sandbox records of the built-in network, written before any kernel object is
//! created so teardown and reconcile know what to remove after a crash.

use std::fs;
use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{NetworkError, Result};
use crate::ipam::remove_if_present;
use crate::types::PortMapping;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SandboxRecord {
    pub sandbox_id: String,
    pub pod_namespace: String,
    pub pod_name: String,
    pub ip: Ipv4Addr,
    pub host_veth: String,
    pub netns_path: PathBuf,
    pub port_mappings: Vec<PortMapping>,
}

#[derive(Debug, Clone)]
pub(crate) struct SandboxStore {
    dir: PathBuf,
}

impl SandboxStore {
    pub fn open(dir: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir)
            .map_err(|e| NetworkError::io("creating sandbox state directory", &dir, e))?;
        Ok(SandboxStore { dir })
    }

    fn path(&self, sandbox_id: &str) -> PathBuf {
        self.dir.join(format!("{sandbox_id}.json"))
    }

    /// Writes atomically (temp file + rename) so a crash never leaves half a record.
    pub fn save(&self, record: &SandboxRecord) -> Result<()> {
        let path = self.path(&record.sandbox_id);
        let tmp = self.dir.join(format!(".{}.tmp", record.sandbox_id));
        let bytes = serde_json::to_vec(record)
            .map_err(|e| NetworkError::invalid(format!("encoding record: {e}")))?;
        fs::write(&tmp, bytes).map_err(|e| NetworkError::io("writing sandbox record", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| NetworkError::io("renaming sandbox record", &path, e))
    }

    pub fn load(&self, sandbox_id: &str) -> Result<Option<SandboxRecord>> {
        read_record(&self.path(sandbox_id))
    }

    pub fn remove(&self, sandbox_id: &str) -> Result<()> {
        remove_if_present(&self.path(sandbox_id))
    }

    /// Ids of every recorded sandbox.
    pub fn ids(&self) -> Result<Vec<String>> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| NetworkError::io("listing sandbox records", &self.dir, e))?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| NetworkError::io("listing sandbox records", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name
                .strip_suffix(".json")
                .filter(|_| !name.starts_with('.'))
            {
                ids.push(id.to_string());
            } else if name.starts_with('.') && name.ends_with(".tmp") {
                // leftover of a crash during save
                remove_if_present(&entry.path())?;
            }
        }
        ids.sort();
        Ok(ids)
    }
}

fn read_record(path: &Path) -> Result<Option<SandboxRecord>> {
    match fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(record) => Ok(Some(record)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable sandbox record");
                Ok(None)
            }
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NetworkError::io("reading sandbox record", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_list_remove() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = SandboxStore::open(tmp.path().join("s")).expect("open");
        let rec = SandboxRecord {
            sandbox_id: "sb1".into(),
            pod_namespace: "default".into(),
            pod_name: "web".into(),
            ip: Ipv4Addr::new(10, 42, 0, 2),
            host_veth: "vethabc".into(),
            netns_path: "/proc/1/ns/net".into(),
            port_mappings: vec![],
        };
        store.save(&rec).expect("save");
        assert_eq!(store.load("sb1").expect("load"), Some(rec));
        assert_eq!(store.ids().expect("ids"), vec!["sb1".to_string()]);
        store.remove("sb1").expect("remove");
        assert_eq!(store.load("sb1").expect("load"), None);
        assert!(store.ids().expect("ids").is_empty());
    }
}
