//! Hard eviction thresholds (kubelet's `--eviction-hard`): how much memory, disk and PIDs must
//! stay available before the node reports pressure, and what allocatable holds back.
//!
//! Syntax as kubelet's: `memory.available<100Mi,nodefs.available<10%,pid.available<10%`, a
//! quantity or a percentage of the signal's total. Without the flag the defaults below apply;
//! as with kubelet, naming any threshold drops the defaults of the ones not named (an empty
//! value turns them all off).

use peapod_apimachinery::quantity::Quantity;

/// One threshold: pressure when less than this is available.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// An absolute amount (bytes, or PIDs for `pid.available`).
    Amount(u64),
    /// A share of the signal's total, in percent.
    Percent(f64),
}

impl Threshold {
    /// The amount this threshold keeps available out of `total`.
    pub fn of(&self, total: u64) -> u64 {
        match *self {
            Threshold::Amount(a) => a,
            // Exact enough: a percentage of a u64 total, rounded up so `<10%` of 100 is 10.
            Threshold::Percent(p) => ((total as f64) * p / 100.0).ceil() as u64,
        }
    }
}

/// The node's hard eviction thresholds; `None` is no threshold for that signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvictionThresholds {
    pub memory_available: Option<Threshold>,
    pub nodefs_available: Option<Threshold>,
    /// Kubelet has no default for PIDs; 10% mirrors the nodefs one and leaves room to act
    /// before forks start failing.
    pub pid_available: Option<Threshold>,
}

impl Default for EvictionThresholds {
    /// Kubelet's defaults `memory.available<100Mi`, `nodefs.available<10%`, and `pid.available<10%`.
    fn default() -> Self {
        EvictionThresholds {
            memory_available: Some(Threshold::Amount(100 << 20)),
            nodefs_available: Some(Threshold::Percent(10.0)),
            pid_available: Some(Threshold::Percent(10.0)),
        }
    }
}

const SIGNALS: [&str; 3] = ["memory.available", "nodefs.available", "pid.available"];

impl EvictionThresholds {
    /// No thresholds at all.
    pub fn none() -> Self {
        EvictionThresholds {
            memory_available: None,
            nodefs_available: None,
            pid_available: None,
        }
    }

    /// Parses kubelet's `--eviction-hard` value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = EvictionThresholds::none();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (signal, value) = item.split_once('<').ok_or_else(|| {
                format!("eviction threshold {item:?}: expected <signal><<quantity or percent>")
            })?;
            let signal = signal.trim();
            let slot = match signal {
                "memory.available" => &mut out.memory_available,
                "nodefs.available" => &mut out.nodefs_available,
                "pid.available" => &mut out.pid_available,
                other => {
                    return Err(format!(
                        "eviction threshold {item:?}: unsupported signal {other:?} (supported: {})",
                        SIGNALS.join(", ")
                    ))
                }
            };
            if slot.is_some() {
                return Err(format!(
                    "found duplicate eviction threshold for signal {signal}"
                ));
            }
            *slot = Some(threshold(value.trim()).map_err(|e| format!("{signal}: {e}"))?);
        }
        Ok(out)
    }

    /// Memory held back from allocatable: the `memory.available` threshold of `total`.
    pub fn memory_reserve(&self, total: u64) -> u64 {
        self.memory_available.map_or(0, |t| t.of(total))
    }

    /// Disk held back from allocatable ephemeral storage: the `nodefs.available` threshold.
    pub fn nodefs_reserve(&self, total: u64) -> u64 {
        self.nodefs_available.map_or(0, |t| t.of(total))
    }
}

fn threshold(value: &str) -> Result<Threshold, String> {
    if let Some(p) = value.strip_suffix('%') {
        let p: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("invalid percentage {value:?}"))?;
        if !(0.0..=100.0).contains(&p) {
            return Err(format!("percentage {value:?} must be between 0% and 100%"));
        }
        return Ok(Threshold::Percent(p));
    }
    let amount = Quantity::parse(value).map_err(|e| e.to_string())?;
    if amount.is_negative() {
        return Err(format!("quantity {value:?} must not be negative"));
    }
    // Whole bytes (or PIDs), rounded up; non-negative, so the i64 converts losslessly.
    Ok(Threshold::Amount(amount.value().unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubelet_syntax() {
        let t = EvictionThresholds::parse(
            "memory.available<100Mi, nodefs.available<10%,pid.available<5000",
        )
        .unwrap();
        assert_eq!(
            t,
            EvictionThresholds {
                pid_available: Some(Threshold::Amount(5000)),
                ..Default::default()
            }
        );
        assert_eq!(t.memory_reserve(1 << 30), 100 << 20);
        assert_eq!(t.nodefs_reserve(1000), 100);
        assert_eq!(Threshold::Percent(12.5).of(8), 1, "rounded up");
        assert_eq!(Threshold::Amount(7).of(0), 7);
    }

    #[test]
    fn naming_one_signal_drops_the_other_defaults() {
        let t = EvictionThresholds::parse("nodefs.available<100Mi").unwrap();
        assert_eq!(t.memory_available, None);
        assert_eq!(t.pid_available, None);
        assert_eq!(t.nodefs_available, Some(Threshold::Amount(100 << 20)));
        assert_eq!(t.memory_reserve(1 << 30), 0);
        assert_eq!(
            EvictionThresholds::parse("").unwrap(),
            EvictionThresholds::none()
        );
    }

    #[test]
    fn rejects_what_kubelet_rejects() {
        for bad in [
            "memory.available>100Mi",
            "memory.available",
            "imagefs.available<15%",
            "nodefs.available<110%",
            "nodefs.available<-1%",
            "nodefs.available<ten",
            "memory.available<-5Mi",
            "memory.available<1Mi,memory.available<2Mi",
        ] {
            assert!(EvictionThresholds::parse(bad).is_err(), "{bad} accepted");
        }
        let err = EvictionThresholds::parse("imagefs.available<15%").unwrap_err();
        assert!(err.contains("supported: memory.available"), "{err}");
    }
}
