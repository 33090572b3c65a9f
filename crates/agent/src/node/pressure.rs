//! Node pressure (memory, disk, PIDs), read from the machine on every heartbeat and judged
//! against kubelet's default hard eviction thresholds.
//!
//! * MemoryPressure: `MemAvailable` below 100Mi (kubelet's `memory.available<100Mi`).
//! * DiskPressure: the data dir's filesystem has less than 10% available
//!   (`nodefs.available<10%`).
//! * PIDPressure: fewer than 10% of the PID limit left. Kubelet has no default `pid.available`
//!   threshold; 10% mirrors the nodefs one and leaves room to act before forks start failing.
//!   The limit is `min(kernel.pid_max, kernel.threads-max)` and usage is the kernel's task count
//!   (threads included, since every thread takes a PID).

use std::path::Path;

use super::machine::EVICTION_MEMORY;

/// Share of the data filesystem that must stay available (`nodefs.available<10%`).
pub const DISK_AVAILABLE_PERCENT: u64 = 10;
/// Share of the PID limit that must stay available.
pub const PID_AVAILABLE_PERCENT: u64 = 10;

/// One reading of the machine; `None` where it could not be read (never pressure then).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readings {
    pub memory_available_bytes: Option<u64>,
    /// (available, total) bytes of the data dir's filesystem.
    pub disk: Option<(u64, u64)>,
    /// (tasks in use, limit).
    pub pids: Option<(u64, u64)>,
}

/// Which pressures the node is under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pressure {
    pub memory: bool,
    pub disk: bool,
    pub pid: bool,
}

impl Readings {
    pub fn measure(data_dir: &Path) -> Readings {
        Readings {
            memory_available_bytes: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| meminfo_kb(&m, "MemAvailable:"))
                .and_then(|kb| kb.checked_mul(1024)),
            disk: nix::sys::statvfs::statvfs(data_dir).ok().map(|s| {
                let frag = s.fragment_size();
                (
                    s.blocks_available().saturating_mul(frag),
                    s.blocks().saturating_mul(frag),
                )
            }),
            pids: pid_usage(),
        }
    }

    pub fn pressure(&self) -> Pressure {
        Pressure {
            memory: self
                .memory_available_bytes
                .is_some_and(|a| a < EVICTION_MEMORY),
            disk: self
                .disk
                .is_some_and(|(avail, total)| below_percent(avail, total, DISK_AVAILABLE_PERCENT)),
            pid: self.pids.is_some_and(|(used, limit)| {
                below_percent(limit.saturating_sub(used), limit, PID_AVAILABLE_PERCENT)
            }),
        }
    }
}

/// `available < percent% of total`, exact in integers; an empty total is no signal.
fn below_percent(available: u64, total: u64, percent: u64) -> bool {
    total > 0 && u128::from(available) * 100 < u128::from(total) * u128::from(percent)
}

/// `<key>  123 kB` in /proc/meminfo → 123.
pub fn meminfo_kb(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn pid_usage() -> Option<(u64, u64)> {
    let limit = match (
        read_u64("/proc/sys/kernel/pid_max"),
        read_u64("/proc/sys/kernel/threads-max"),
    ) {
        (Some(p), Some(t)) => p.min(t),
        (p, t) => p.or(t)?,
    };
    let tasks = loadavg_tasks(&std::fs::read_to_string("/proc/loadavg").ok()?)?;
    Some((tasks, limit))
}

/// The task count in /proc/loadavg (`0.00 0.01 0.05 2/345 6789` → 345). sysinfo(2)'s count
/// is 16 bits wide and wraps on busy machines; this one does not.
pub fn loadavg_tasks(text: &str) -> Option<u64> {
    text.split_whitespace()
        .nth(3)?
        .split_once('/')?
        .1
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MI: u64 = 1 << 20;

    fn healthy() -> Readings {
        Readings {
            memory_available_bytes: Some(2048 * MI),
            disk: Some((50 * MI, 100 * MI)),
            pids: Some((300, 4_194_304)),
        }
    }

    #[test]
    fn healthy_readings_mean_no_pressure() {
        assert_eq!(healthy().pressure(), Pressure::default());
        assert_eq!(Readings::default().pressure(), Pressure::default());
    }

    #[test]
    fn memory_pressure_below_100mi_available() {
        let mut r = healthy();
        r.memory_available_bytes = Some(100 * MI);
        assert!(
            !r.pressure().memory,
            "exactly 100Mi is not below the threshold"
        );
        r.memory_available_bytes = Some(100 * MI - 1);
        assert_eq!(
            r.pressure(),
            Pressure {
                memory: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn disk_pressure_below_ten_percent_available() {
        let mut r = healthy();
        r.disk = Some((10, 100));
        assert!(!r.pressure().disk);
        r.disk = Some((9, 100));
        assert!(r.pressure().disk);
        // Large filesystems do not overflow the comparison.
        r.disk = Some((u64::MAX / 20, u64::MAX));
        assert!(r.pressure().disk);
        r.disk = Some((0, 0));
        assert!(!r.pressure().disk, "an unreadable size is no signal");
    }

    #[test]
    fn pid_pressure_above_ninety_percent_used() {
        let mut r = healthy();
        r.pids = Some((900, 1000));
        assert!(!r.pressure().pid);
        r.pids = Some((901, 1000));
        assert!(r.pressure().pid);
        r.pids = Some((5000, 1000));
        assert!(r.pressure().pid);
    }

    #[test]
    fn reads_this_machine() {
        let r = Readings::measure(Path::new("/"));
        assert!(r.memory_available_bytes.is_some_and(|m| m > 0));
        assert!(r.disk.is_some_and(|(a, t)| a <= t && t > 0));
        assert!(r.pids.is_some_and(|(used, limit)| used > 0 && limit > used));
        assert_eq!(
            meminfo_kb("MemAvailable:  42 kB\n", "MemAvailable:"),
            Some(42)
        );
        assert_eq!(meminfo_kb("MemTotal: 1 kB\n", "MemAvailable:"), None);
        assert_eq!(loadavg_tasks("0.00 0.01 0.05 2/70345 6789\n"), Some(70345));
        assert_eq!(loadavg_tasks("garbage"), None);
    }
}
