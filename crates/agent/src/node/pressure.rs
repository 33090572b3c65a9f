//! Node pressure (memory, disk, PIDs), read from the machine on every heartbeat and judged
//! against the node's hard eviction thresholds (`eviction.rs`).
//!
//! * MemoryPressure: `MemAvailable` below `memory.available`.
//! * DiskPressure: the data dir's filesystem below `nodefs.available`.
//! * PIDPressure: the PID limit minus the tasks in use below `pid.available`. The limit is
//!   `min(kernel.pid_max, kernel.threads-max)` and usage is the kernel's task count (threads
//!   included, since every thread takes a PID).

use std::path::Path;

use super::eviction::{EvictionThresholds, Threshold};

/// One reading of the machine, each signal as (available, total); `None` where it could not
/// be read (never pressure then).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readings {
    /// Bytes of memory.
    pub memory: Option<(u64, u64)>,
    /// Bytes of the data dir's filesystem.
    pub disk: Option<(u64, u64)>,
    /// PIDs left out of the limit.
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
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let bytes = |key| meminfo_kb(&meminfo, key).and_then(|kb| kb.checked_mul(1024));
        Readings {
            memory: bytes("MemAvailable:").zip(bytes("MemTotal:")),
            disk: nix::sys::statvfs::statvfs(data_dir).ok().map(|s| {
                let frag = s.fragment_size();
                (
                    s.blocks_available().saturating_mul(frag),
                    s.blocks().saturating_mul(frag),
                )
            }),
            pids: pid_usage().map(|(used, limit)| (limit.saturating_sub(used), limit)),
        }
    }

    pub fn pressure(&self, t: &EvictionThresholds) -> Pressure {
        Pressure {
            memory: below(self.memory, t.memory_available),
            disk: below(self.disk, t.nodefs_available),
            pid: below(self.pids, t.pid_available),
        }
    }
}

/// `available < threshold`; an empty total (unreadable) is no signal, nor is no threshold.
fn below(reading: Option<(u64, u64)>, threshold: Option<Threshold>) -> bool {
    match (reading, threshold) {
        (Some((available, total)), Some(t)) if total > 0 => available < t.of(total),
        _ => false,
    }
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
            memory: Some((2048 * MI, 4096 * MI)),
            disk: Some((50 * MI, 100 * MI)),
            pids: Some((4_194_000, 4_194_304)),
        }
    }

    fn defaults() -> EvictionThresholds {
        EvictionThresholds::default()
    }

    #[test]
    fn healthy_readings_mean_no_pressure() {
        assert_eq!(healthy().pressure(&defaults()), Pressure::default());
        assert_eq!(
            Readings::default().pressure(&defaults()),
            Pressure::default()
        );
    }

    #[test]
    fn memory_pressure_below_100mi_available() {
        let mut r = healthy();
        r.memory = Some((100 * MI, 4096 * MI));
        assert!(
            !r.pressure(&defaults()).memory,
            "exactly 100Mi is not below the threshold"
        );
        r.memory = Some((100 * MI - 1, 4096 * MI));
        assert_eq!(
            r.pressure(&defaults()),
            Pressure {
                memory: true,
                ..Default::default()
            }
        );
        assert_eq!(
            r.pressure(&EvictionThresholds::none()),
            Pressure::default(),
            "no threshold, no pressure"
        );
    }

    #[test]
    fn disk_pressure_below_ten_percent_available() {
        let mut r = healthy();
        r.disk = Some((10, 100));
        assert!(!r.pressure(&defaults()).disk);
        r.disk = Some((9, 100));
        assert!(r.pressure(&defaults()).disk);
        // Large filesystems do not overflow the comparison.
        r.disk = Some((u64::MAX / 20, u64::MAX));
        assert!(r.pressure(&defaults()).disk);
        r.disk = Some((0, 0));
        assert!(
            !r.pressure(&defaults()).disk,
            "an unreadable size is no signal"
        );
        // An absolute threshold ignores how large the disk is.
        let small = EvictionThresholds::parse("nodefs.available<100Mi").unwrap();
        r.disk = Some((200 * MI, 1 << 40));
        assert!(!r.pressure(&small).disk);
        r.disk = Some((99 * MI, 1 << 40));
        assert!(r.pressure(&small).disk);
    }

    #[test]
    fn pid_pressure_above_ninety_percent_used() {
        let mut r = healthy();
        r.pids = Some((100, 1000));
        assert!(!r.pressure(&defaults()).pid);
        r.pids = Some((99, 1000));
        assert!(r.pressure(&defaults()).pid);
        r.pids = Some((0, 1000));
        assert!(r.pressure(&defaults()).pid);
    }

    #[test]
    fn reads_this_machine() {
        let r = Readings::measure(Path::new("/"));
        assert!(r.memory.is_some_and(|(a, t)| a > 0 && a <= t));
        assert!(r.disk.is_some_and(|(a, t)| a <= t && t > 0));
        assert!(r.pids.is_some_and(|(left, limit)| left > 0 && limit > left));
        assert_eq!(
            meminfo_kb("MemAvailable:  42 kB\n", "MemAvailable:"),
            Some(42)
        );
        assert_eq!(meminfo_kb("MemTotal: 1 kB\n", "MemAvailable:"), None);
        assert_eq!(loadavg_tasks("0.00 0.01 0.05 2/70345 6789\n"), Some(70345));
        assert_eq!(loadavg_tasks("garbage"), None);
    }
}
