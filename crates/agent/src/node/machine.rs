//! What the node has, measured from the machine: cpus, memory, disk, addresses, OS facts.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::Path;

use super::eviction::EvictionThresholds;

/// Capacity and identity of this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpus: u64,
    pub memory_bytes: u64,
    pub ephemeral_storage_bytes: u64,
    pub host_ip: IpAddr,
    pub hostname: String,
    pub kernel_version: String,
    pub os_image: String,
    pub machine_id: String,
    pub boot_id: String,
    pub system_uuid: String,
}

/// Pods per node, Kubernetes' default `--max-pods`.
pub const MAX_PODS: u64 = 110;

impl Machine {
    pub fn measure(data_dir: &Path) -> Machine {
        let uname = nix::sys::utsname::uname().ok();
        Machine {
            cpus: cpus(),
            memory_bytes: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| meminfo_total(&m))
                .unwrap_or(0),
            ephemeral_storage_bytes: disk_bytes(data_dir),
            host_ip: primary_ipv4(),
            hostname: uname
                .as_ref()
                .map(|u| u.nodename().to_string_lossy().to_string())
                .unwrap_or_default(),
            kernel_version: uname
                .as_ref()
                .map(|u| u.release().to_string_lossy().to_string())
                .unwrap_or_default(),
            os_image: std::fs::read_to_string("/etc/os-release")
                .ok()
                .and_then(|t| pretty_name(&t))
                .unwrap_or_else(|| "Linux".into()),
            machine_id: read_trim("/etc/machine-id"),
            boot_id: read_trim("/proc/sys/kernel/random/boot_id"),
            system_uuid: read_trim("/sys/class/dmi/id/product_uuid"),
        }
    }

    /// Allocatable memory: capacity minus the `memory.available` eviction threshold.
    pub fn allocatable_memory(&self, eviction: &EvictionThresholds) -> u64 {
        self.memory_bytes
            .saturating_sub(eviction.memory_reserve(self.memory_bytes))
    }

    /// Allocatable ephemeral storage: capacity minus the `nodefs.available` eviction threshold.
    pub fn allocatable_storage(&self, eviction: &EvictionThresholds) -> u64 {
        self.ephemeral_storage_bytes
            .saturating_sub(eviction.nodefs_reserve(self.ephemeral_storage_bytes))
    }
}

pub use peapod_runtime::platform::go_arch;

fn read_trim(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn cpus() -> u64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(1)
}

/// `MemTotal:  16315412 kB` → bytes.
pub fn meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"` → the name.
pub fn pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|l| {
        l.strip_prefix("PRETTY_NAME=")
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

fn disk_bytes(dir: &Path) -> u64 {
    nix::sys::statvfs::statvfs(dir)
        .map(|s| s.blocks().saturating_mul(s.fragment_size()))
        .unwrap_or(0)
}

/// The source address of the default route: a connected UDP socket picks it without
/// sending anything. Falls back to 127.0.0.1 on machines without a default route.
fn primary_ipv4() -> IpAddr {
    let probe = || -> std::io::Result<IpAddr> {
        let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        sock.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
        Ok(sock.local_addr()?.ip())
    };
    match probe() {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_and_os_release() {
        assert_eq!(
            meminfo_total("MemTotal:       2048 kB\nMemFree: 1 kB\n"),
            Some(2048 * 1024)
        );
        assert_eq!(meminfo_total("nothing"), None);
        assert_eq!(
            pretty_name("NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn measures_this_machine() {
        let m = Machine::measure(Path::new("/"));
        assert!(m.cpus >= 1);
        let defaults = EvictionThresholds::default();
        assert!(m.allocatable_memory(&defaults) > 0);
        assert!(m.allocatable_memory(&defaults) < m.memory_bytes);
        assert!(m.allocatable_storage(&defaults) < m.ephemeral_storage_bytes);
        assert_eq!(
            m.allocatable_memory(&EvictionThresholds::none()),
            m.memory_bytes
        );
        assert!(m.ephemeral_storage_bytes > 0);
        assert!(!m.kernel_version.is_empty());
    }
}
