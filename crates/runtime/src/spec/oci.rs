//! Builds the OCI runtime spec (`config.json`) of a container with `oci-spec`.

use std::path::PathBuf;

use anyhow::Context;
use oci_spec::runtime::Spec;
use serde_json::{json, Value};

use super::process::ResolvedProcess;
use crate::cgroups;
use crate::config::{Capabilities, Resources};

/// Capabilities containerd gives a non-privileged container.
pub const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// How the container relates to each pod namespace: joined (path), host (None) or new.
#[derive(Debug, Clone)]
pub enum NsMode {
    Join(PathBuf),
    Host,
    New,
}

/// A host path bound into the container.
#[derive(Debug, Clone)]
pub struct BindMount {
    pub source: PathBuf,
    pub destination: String,
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub struct SpecInput {
    pub process: ResolvedProcess,
    pub rootfs: PathBuf,
    pub read_only_rootfs: bool,
    pub privileged: bool,
    pub no_new_privs: bool,
    pub capabilities: Capabilities,
    pub pid_ns: NsMode,
    pub net_ns: NsMode,
    pub ipc_ns: NsMode,
    pub uts_ns: NsMode,
    pub cgroups_path: String,
    pub resources: Resources,
    pub binds: Vec<BindMount>,
}

fn normalize_cap(c: &str) -> String {
    let up = c.to_ascii_uppercase();
    if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

/// Default set, then `ALL` on either side, then individual adds, then individual drops
/// (so `drop: [ALL], add: [NET_ADMIN]` leaves only NET_ADMIN, as with containerd).
pub fn effective_caps(caps: &Capabilities, privileged: bool) -> Vec<String> {
    let all: Vec<String> = caps::all().into_iter().map(|c| c.to_string()).collect();
    if privileged {
        return all;
    }
    let is_all = |c: &String| c.eq_ignore_ascii_case("ALL");
    let mut set: Vec<String> = DEFAULT_CAPS.iter().map(|s| s.to_string()).collect();
    if caps.add.iter().any(is_all) {
        set = all.clone();
    }
    if caps.drop.iter().any(is_all) {
        set.clear();
    }
    for a in caps.add.iter().filter(|c| !is_all(c)) {
        if !set.contains(&normalize_cap(a)) {
            set.push(normalize_cap(a));
        }
    }
    for d in caps.drop.iter().filter(|c| !is_all(c)) {
        let d = normalize_cap(d);
        set.retain(|c| *c != d);
    }
    set
}

fn namespace(kind: &str, mode: &NsMode) -> Option<Value> {
    match mode {
        NsMode::Host => None,
        NsMode::New => Some(json!({"type": kind})),
        NsMode::Join(p) => Some(json!({"type": kind, "path": p})),
    }
}

pub fn build(input: &SpecInput) -> anyhow::Result<Spec> {
    let p = &input.process;
    let caps = effective_caps(&input.capabilities, input.privileged);
    let mut namespaces = vec![json!({"type": "mount"})];
    namespaces.extend(namespace("pid", &input.pid_ns));
    namespaces.extend(namespace("network", &input.net_ns));
    namespaces.extend(namespace("ipc", &input.ipc_ns));
    namespaces.extend(namespace("uts", &input.uts_ns));

    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
    ];
    let sys_ro = if input.privileged { "rw" } else { "ro" };
    if matches!(input.net_ns, NsMode::Host) {
        // sysfs can only be mounted from a network namespace we own: bind the host's.
        mounts.push(
            json!({"destination": "/sys", "type": "bind", "source": "/sys",
                           "options": ["rbind", "nosuid", "noexec", "nodev", sys_ro]}),
        );
    } else {
        mounts.push(
            json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
                           "options": ["nosuid", "noexec", "nodev", sys_ro]}),
        );
        mounts.push(
            json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                           "options": ["nosuid", "noexec", "nodev", "relatime", sys_ro]}),
        );
    }
    for b in &input.binds {
        let mut opts = vec!["rbind", "rprivate"];
        if b.read_only {
            opts.push("ro");
        }
        mounts.push(json!({"destination": b.destination, "type": "bind", "source": b.source, "options": opts}));
    }

    let mut resources = json!({});
    if input.privileged {
        resources["devices"] = json!([{"allow": true, "access": "rwm"}]);
    } else {
        resources["devices"] = json!([{"allow": false, "access": "rwm"}]);
    }
    let r = &input.resources;
    let mut cpu = json!({});
    if let Some(req) = r.cpu_request_millis {
        cpu["shares"] = json!(cgroups::cpu_shares(req));
    }
    if let Some(lim) = r.cpu_limit_millis {
        cpu["quota"] = json!(cgroups::cpu_quota(lim));
        cpu["period"] = json!(cgroups::CPU_PERIOD);
    }
    if cpu.as_object().is_some_and(|o| !o.is_empty()) {
        resources["cpu"] = cpu;
    }
    if let Some(m) = r.memory_limit_bytes {
        resources["memory"] = json!({"limit": m});
    }
    if let Some(pids) = r.pids_limit {
        resources["pids"] = json!({"limit": pids});
    }

    let mut linux = json!({
        "cgroupsPath": input.cgroups_path,
        "namespaces": namespaces,
        "resources": resources,
    });
    if !input.privileged {
        linux["maskedPaths"] = json!(oci_spec::runtime::get_default_maskedpaths());
        linux["readonlyPaths"] = json!(oci_spec::runtime::get_default_readonly_paths());
    }

    let spec = json!({
        "ociVersion": "1.0.2",
        "root": {"path": input.rootfs, "readonly": input.read_only_rootfs},
        "process": {
            "terminal": false,
            "user": {"uid": p.uid, "gid": p.gid, "additionalGids": p.additional_gids},
            "args": p.args,
            "env": p.env,
            "cwd": p.cwd,
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "noNewPrivileges": input.no_new_privs,
        },
        "mounts": mounts,
        "linux": linux,
    });
    serde_json::from_value(spec).context("building OCI runtime spec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_add_drop_and_all() {
        let none = Capabilities::default();
        assert_eq!(effective_caps(&none, false).len(), DEFAULT_CAPS.len());
        let c = Capabilities {
            add: vec!["NET_ADMIN".into()],
            drop: vec!["kill".into()],
        };
        let set = effective_caps(&c, false);
        assert!(
            set.contains(&"CAP_NET_ADMIN".to_string()) && !set.contains(&"CAP_KILL".to_string())
        );
        let c = Capabilities {
            add: vec!["CHOWN".into()],
            drop: vec!["ALL".into()],
        };
        assert_eq!(effective_caps(&c, false), ["CAP_CHOWN"]);
        let c = Capabilities {
            add: vec!["ALL".into()],
            drop: vec!["CHOWN".into()],
        };
        let set = effective_caps(&c, false);
        assert!(
            set.contains(&"CAP_SYS_ADMIN".to_string()) && !set.contains(&"CAP_CHOWN".to_string())
        );
        assert!(effective_caps(&none, true).contains(&"CAP_SYS_ADMIN".to_string()));
    }
}
