//! On-disk layout of a sandbox:
//! `DIR/sandboxes/<id>/{sandbox.json,state.json,hosts,resolv.conf,hostname,shm/,volumes/,
//! containers/<cid>/,lc/,sup.sock,supervisor.log}`.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct SandboxPaths {
    pub dir: PathBuf,
}

impl SandboxPaths {
    pub fn new(dir: &Path) -> Self {
        SandboxPaths {
            dir: dir.to_path_buf(),
        }
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("sandbox.json")
    }
    pub fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn hosts(&self) -> PathBuf {
        self.dir.join("hosts")
    }
    pub fn resolv_conf(&self) -> PathBuf {
        self.dir.join("resolv.conf")
    }
    pub fn hostname(&self) -> PathBuf {
        self.dir.join("hostname")
    }
    pub fn shm(&self) -> PathBuf {
        self.dir.join("shm")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.join("sup.sock")
    }
    pub fn supervisor_log(&self) -> PathBuf {
        self.dir.join("supervisor.log")
    }
    /// libcontainer's state root for this pod's containers.
    pub fn libcontainer_root(&self) -> PathBuf {
        self.dir.join("lc")
    }
    pub fn containers(&self) -> PathBuf {
        self.dir.join("containers")
    }
    pub fn container(&self, id: &str) -> ContainerPaths {
        ContainerPaths {
            dir: self.containers().join(id),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ContainerPaths {
    pub dir: PathBuf,
}

impl ContainerPaths {
    pub fn meta(&self) -> PathBuf {
        self.dir.join(crate::status::META_FILE)
    }
    pub fn status(&self) -> PathBuf {
        self.dir.join(crate::status::STATUS_FILE)
    }
    pub fn bundle(&self) -> PathBuf {
        self.dir.join("bundle")
    }
    /// overlay mount point (the container's root when the rootfs is an overlay).
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }
    pub fn termination_log(&self) -> PathBuf {
        self.dir.join("termination-log")
    }
}
