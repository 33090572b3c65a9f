//! Host-local IPAM: one file per allocated address under a directory.
//!
//! Creating `<dir>/<ip>` with `O_EXCL` is the allocation, so two allocations can never
//! get the same address, even from two processes, and allocations survive restarts.
//! The file holds the owner (sandbox id). `last_reserved_ip` makes allocation round-robin
//! so a released address is not handed out again at once (stale ARP / conntrack).
//! No fsync: after a power loss every pod namespace is gone too, and reconcile
//! releases whatever files survived.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::cidr::Ipv4Cidr;
use crate::error::{NetworkError, Result};

const LAST_RESERVED: &str = "last_reserved_ip";

/// Address allocator for one node subnet.
#[derive(Debug, Clone)]
pub struct HostLocalIpam {
    dir: PathBuf,
    subnet: Ipv4Cidr,
    gateway: Ipv4Addr,
}

impl HostLocalIpam {
    /// Opens (creating if needed) the allocation directory for `subnet`.
    /// The network address, the gateway and the broadcast address are never handed out.
    pub fn open(dir: impl Into<PathBuf>, subnet: Ipv4Cidr, gateway: Ipv4Addr) -> Result<Self> {
        let dir = dir.into();
        if subnet.prefix() > 30 {
            return Err(NetworkError::invalid(format!(
                "subnet {subnet} is too small for pods"
            )));
        }
        if !subnet.contains(gateway) {
            return Err(NetworkError::invalid(format!(
                "gateway {gateway} is outside {subnet}"
            )));
        }
        fs::create_dir_all(&dir)
            .map_err(|e| NetworkError::io("creating IPAM directory", &dir, e))?;
        Ok(HostLocalIpam {
            dir,
            subnet,
            gateway,
        })
    }

    pub fn subnet(&self) -> Ipv4Cidr {
        self.subnet
    }

    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reserves a free address for `owner`.
    pub fn allocate(&self, owner: &str) -> Result<Ipv4Addr> {
        let first = 1u64;
        let last = self.subnet.size() - 2; // skip the broadcast address
        let count = last - first + 1;
        let start = self.last_reserved().map(|i| i + 1).unwrap_or(first);
        for step in 0..count {
            let index = first + (start.saturating_sub(first) + step) % count;
            let Some(ip) = self.subnet.nth(index) else {
                continue;
            };
            if ip == self.gateway {
                continue;
            }
            let path = self.dir.join(ip.to_string());
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(owner.as_bytes())
                        .map_err(|e| NetworkError::io("writing IPAM entry", &path, e))?;
                    self.write_last_reserved(ip);
                    return Ok(ip);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(NetworkError::io("creating IPAM entry", &path, e)),
            }
        }
        Err(NetworkError::Exhausted(self.subnet.to_string()))
    }

    /// Releases `ip` if it is held by `owner`; returns whether something was released.
    pub fn release(&self, ip: Ipv4Addr, owner: &str) -> Result<bool> {
        let path = self.dir.join(ip.to_string());
        match fs::read_to_string(&path) {
            Ok(held_by) if held_by.trim() == owner => {
                remove_if_present(&path)?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(NetworkError::io("reading IPAM entry", &path, e)),
        }
    }

    /// Releases every address held by `owner` (scan; used when its IP is unknown).
    pub fn release_owner(&self, owner: &str) -> Result<Vec<Ipv4Addr>> {
        let mut released = Vec::new();
        for (ip, held_by) in self.allocations()? {
            if held_by == owner && self.release(ip, owner)? {
                released.push(ip);
            }
        }
        Ok(released)
    }

    /// All current allocations as (address, owner).
    pub fn allocations(&self) -> Result<Vec<(Ipv4Addr, String)>> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| NetworkError::io("listing IPAM directory", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| NetworkError::io("listing IPAM directory", &self.dir, e))?;
            let Some(ip) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<Ipv4Addr>().ok())
            else {
                continue;
            };
            match fs::read_to_string(entry.path()) {
                Ok(owner) => out.push((ip, owner.trim().to_string())),
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(NetworkError::io("reading IPAM entry", entry.path(), e)),
            }
        }
        out.sort();
        Ok(out)
    }

    fn last_reserved(&self) -> Option<u64> {
        let text = fs::read_to_string(self.dir.join(LAST_RESERVED)).ok()?;
        self.subnet.index_of(text.trim().parse().ok()?)
    }

    /// Best effort: losing the hint only changes which free address comes next.
    fn write_last_reserved(&self, ip: Ipv4Addr) {
        let _ = fs::write(self.dir.join(LAST_RESERVED), ip.to_string());
    }
}

pub(crate) fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetworkError::io("removing file", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipam(dir: &Path, subnet: &str) -> HostLocalIpam {
        let subnet: Ipv4Cidr = subnet.parse().expect("valid");
        HostLocalIpam::open(dir, subnet, subnet.gateway().expect("gateway")).expect("open")
    }

    #[test]
    fn allocates_distinct_addresses_skipping_gateway() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ipam = ipam(tmp.path(), "10.42.200.0/24");
        let a = ipam.allocate("a").expect("a");
        let b = ipam.allocate("b").expect("b");
        assert_eq!(a, Ipv4Addr::new(10, 42, 200, 2));
        assert_eq!(b, Ipv4Addr::new(10, 42, 200, 3));
        assert_eq!(
            ipam.allocations().expect("list"),
            vec![(a, "a".to_string()), (b, "b".to_string())]
        );
    }

    #[test]
    fn exhausts_small_subnet_and_reuses_after_release() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ipam = ipam(tmp.path(), "10.42.201.0/29"); // .2-.6 usable
        let got: Vec<_> = (0..5)
            .map(|i| ipam.allocate(&format!("p{i}")).expect("free"))
            .collect();
        assert_eq!(got.first(), Some(&Ipv4Addr::new(10, 42, 201, 2)));
        assert_eq!(got.last(), Some(&Ipv4Addr::new(10, 42, 201, 6)));
        assert!(matches!(
            ipam.allocate("x"),
            Err(NetworkError::Exhausted(_))
        ));
        assert!(ipam.release(got[2], "p2").expect("release"));
        assert_eq!(ipam.allocate("x").expect("reuse"), got[2]);
    }

    #[test]
    fn round_robin_does_not_reuse_immediately() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ipam = ipam(tmp.path(), "10.42.202.0/24");
        let a = ipam.allocate("a").expect("a");
        assert!(ipam.release(a, "a").expect("release"));
        let b = ipam.allocate("b").expect("b");
        assert_ne!(a, b);
    }

    #[test]
    fn release_checks_owner() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ipam = ipam(tmp.path(), "10.42.203.0/24");
        let a = ipam.allocate("a").expect("a");
        assert!(!ipam.release(a, "someone-else").expect("release"));
        assert_eq!(ipam.allocations().expect("list").len(), 1);
        assert_eq!(ipam.release_owner("a").expect("release"), vec![a]);
        assert!(ipam.allocations().expect("list").is_empty());
        assert!(!ipam.release(a, "a").expect("double release is fine"));
    }

    #[test]
    fn survives_reopen() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let a = ipam(tmp.path(), "10.42.204.0/24").allocate("a").expect("a");
        let again = ipam(tmp.path(), "10.42.204.0/24");
        assert_eq!(
            again.allocations().expect("list"),
            vec![(a, "a".to_string())]
        );
        assert_ne!(again.allocate("b").expect("b"), a);
    }

    #[test]
    fn concurrent_allocations_are_unique() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ipam = ipam(tmp.path(), "10.42.205.0/24");
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let ipam = ipam.clone();
                std::thread::spawn(move || {
                    (0..25)
                        .map(|i| ipam.allocate(&format!("t{t}-{i}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            for r in h.join().expect("thread") {
                all.push(r.expect("allocation"));
            }
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn rejects_bad_config() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let subnet: Ipv4Cidr = "10.42.206.0/24".parse().expect("valid");
        assert!(HostLocalIpam::open(tmp.path(), subnet, Ipv4Addr::new(10, 0, 0, 1)).is_err());
        let tiny: Ipv4Cidr = "10.42.206.0/31".parse().expect("valid");
        assert!(HostLocalIpam::open(tmp.path(), tiny, Ipv4Addr::new(10, 42, 206, 0)).is_err());
    }
}
