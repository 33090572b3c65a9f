//! Creations and deletions a controller has made but its cache has not shown yet. Until the
//! cache catches up, a reconcile must not count pods again (it would create or delete twice).
//! Tracked by name, so an expectation is met when the cache shows exactly that object; stale
//! expectations (an event that never came) expire.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::informer::lock;

const EXPIRY: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Pending {
    adds: HashSet<String>,
    deletes: HashSet<String>,
    since: Option<Instant>,
}

#[derive(Default)]
pub struct Expectations {
    by_owner: Mutex<HashMap<String, Pending>>,
}

/// How a name looks in the cache right now.
pub enum Seen {
    Absent,
    Present,
    Deleting,
}

impl Expectations {
    pub fn created(&self, owner: &str, name: &str) {
        let mut m = lock(&self.by_owner);
        let p = m.entry(owner.to_string()).or_default();
        p.adds.insert(name.to_string());
        p.since.get_or_insert_with(Instant::now);
    }

    pub fn deleted(&self, owner: &str, name: &str) {
        let mut m = lock(&self.by_owner);
        let p = m.entry(owner.to_string()).or_default();
        p.deletes.insert(name.to_string());
        p.since.get_or_insert_with(Instant::now);
    }

    /// Records what the watch showed for a pod controlled by `owner`: a pod that was created
    /// and then deleted before any reconcile looked at the cache still counts as seen.
    pub fn observe(&self, owner: &str, name: &str, deleted: bool) {
        let mut m = lock(&self.by_owner);
        if let Some(p) = m.get_mut(owner) {
            p.adds.remove(name);
            if deleted {
                p.deletes.remove(name);
            }
        }
    }

    /// True when every expected change is visible (or has expired).
    pub fn satisfied(&self, owner: &str, seen: impl Fn(&str) -> Seen) -> bool {
        let mut m = lock(&self.by_owner);
        let Some(p) = m.get_mut(owner) else {
            return true;
        };
        p.adds.retain(|n| matches!(seen(n), Seen::Absent));
        p.deletes.retain(|n| matches!(seen(n), Seen::Present));
        let expired = p.since.is_some_and(|s| s.elapsed() > EXPIRY);
        if expired || (p.adds.is_empty() && p.deletes.is_empty()) {
            m.remove(owner);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_cache_then_clears() {
        let e = Expectations::default();
        e.created("rs", "a");
        e.deleted("rs", "b");
        // a not created in the cache yet, b still there.
        assert!(!e.satisfied("rs", |n| if n == "a" {
            Seen::Absent
        } else {
            Seen::Present
        }));
        assert!(!e.satisfied("rs", |_| Seen::Present)); // a seen, b still there
        assert!(e.satisfied("rs", |n| if n == "b" {
            Seen::Deleting
        } else {
            Seen::Present
        }));
        assert!(e.satisfied("other", |_| Seen::Absent));
        // Created and deleted between two looks at the cache.
        e.created("rs", "c");
        e.observe("rs", "c", false);
        assert!(e.satisfied("rs", |_| Seen::Absent));
    }
}
