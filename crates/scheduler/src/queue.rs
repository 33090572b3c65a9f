//! When to (re)try a pending pod: new pods at once; a pod that did not fit waits out its backoff
//! (1 s doubling to 10 s, as upstream) *and* a cluster change (node or placed pod changed, or its own
//! spec changed) — or, failing any change, the periodic flush.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// A parked pod is retried after this long even if nothing changed.
    pub flush: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            flush: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    pub fn after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.initial.saturating_mul(1u32 << doublings).min(self.max)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    attempts: u32,
    last_attempt: Instant,
    next_try: Instant,
    /// Waiting for a cluster change.
    parked: bool,
    /// The pod's spec/labels at the last attempt: a change of its own unparks it.
    fingerprint: u64,
}

#[derive(Debug, Default)]
pub struct Queue {
    backoff: Backoff,
    entries: HashMap<String, Entry>,
}

impl Queue {
    pub fn new(backoff: Backoff) -> Self {
        Queue {
            backoff,
            entries: HashMap::new(),
        }
    }

    /// `fingerprint` is only computed for pods that are waiting for a change.
    pub fn is_ready(&self, uid: &str, fingerprint: impl FnOnce() -> u64, now: Instant) -> bool {
        let Some(e) = self.entries.get(uid) else {
            return true;
        };
        if now < e.next_try {
            return false;
        }
        !e.parked || now >= e.last_attempt + self.backoff.flush || e.fingerprint != fingerprint()
    }

    /// The attempt failed: back off and wait for a change.
    pub fn failed(&mut self, uid: &str, fingerprint: u64, now: Instant) {
        let attempts = self.entries.get(uid).map_or(0, |e| e.attempts) + 1;
        let next_try = now + self.backoff.after(attempts);
        self.entries.insert(
            uid.to_string(),
            Entry {
                attempts,
                last_attempt: now,
                next_try,
                parked: true,
                fingerprint,
            },
        );
    }

    /// A node or a placed pod changed: every waiting pod may fit now (after its backoff).
    pub fn cluster_changed(&mut self) {
        self.entries.values_mut().for_each(|e| e.parked = false);
    }

    pub fn forget(&mut self, uid: &str) {
        self.entries.remove(uid);
    }

    /// Drops pods that are no longer pending.
    pub fn retain(&mut self, mut pending: impl FnMut(&str) -> bool) {
        self.entries.retain(|uid, _| pending(uid));
    }

    /// The earliest moment a waiting pod becomes ready without any new event.
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.entries
            .values()
            .map(|e| {
                if e.parked {
                    e.next_try.max(e.last_attempt + self.backoff.flush)
                } else {
                    e.next_try
                }
            })
            .min()
    }

    pub fn attempts(&self, uid: &str) -> u32 {
        self.entries.get(uid).map_or(0, |e| e.attempts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Queue {
        Queue::new(Backoff::default())
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=6).map(|a| b.after(a).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 10, 10]);
        assert_eq!(b.after(1000).as_secs(), 10);
    }

    #[test]
    fn new_pods_are_ready() {
        assert!(q().is_ready("a", || 1, Instant::now()));
    }

    #[test]
    fn failed_pod_waits_for_backoff_and_a_change() {
        let mut q = q();
        let t0 = Instant::now();
        q.failed("a", 1, t0);
        assert!(!q.is_ready("a", || 1, t0));
        assert!(
            !q.is_ready("a", || 1, t0 + Duration::from_secs(2)),
            "backoff over but nothing changed"
        );
        q.cluster_changed();
        assert!(
            !q.is_ready("a", || 1, t0 + Duration::from_millis(500)),
            "still backing off"
        );
        assert!(q.is_ready("a", || 1, t0 + Duration::from_secs(1)));
        assert_eq!(q.attempts("a"), 1);
    }

    #[test]
    fn own_spec_change_unparks() {
        let mut q = q();
        let t0 = Instant::now();
        q.failed("a", 1, t0);
        assert!(q.is_ready("a", || 2, t0 + Duration::from_secs(1)));
    }

    #[test]
    fn flush_retries_without_a_change() {
        let mut q = q();
        let t0 = Instant::now();
        q.failed("a", 1, t0);
        assert!(!q.is_ready("a", || 1, t0 + Duration::from_secs(29)));
        assert!(q.is_ready("a", || 1, t0 + Duration::from_secs(30)));
        assert_eq!(q.next_wakeup(), Some(t0 + Duration::from_secs(30)));
        q.cluster_changed();
        assert_eq!(q.next_wakeup(), Some(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn repeated_failures_back_off_longer() {
        let mut q = q();
        let t0 = Instant::now();
        q.failed("a", 1, t0);
        q.failed("a", 1, t0);
        q.failed("a", 1, t0);
        q.cluster_changed();
        assert!(!q.is_ready("a", || 1, t0 + Duration::from_secs(3)));
        assert!(q.is_ready("a", || 1, t0 + Duration::from_secs(4)));
        q.retain(|uid| uid != "a");
        assert_eq!(q.attempts("a"), 0);
        assert_eq!(q.next_wakeup(), None);
    }
}
