//! Container restart back-off, as the kubelet does it: the first restart is immediate, then
//! 10 s doubling up to 5 min; a container that ran for 10 min resets it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);
/// A container that ran this long before exiting restarts without back-off.
pub const RESET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub struct Backoff {
    /// key → delay applied to the next restart.
    delays: HashMap<String, Duration>,
}

/// Whether a restart may happen now, and if not, until when to wait.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    RestartNow,
    Wait {
        delay: Duration,
        until: DateTime<Utc>,
    },
}

impl Backoff {
    /// Decides for a container that `finished` after running since `started`.
    pub fn check(
        &mut self,
        key: &str,
        started: Option<DateTime<Utc>>,
        finished: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Decision {
        if ran_long(started, finished) {
            self.delays.remove(key);
        }
        decide(self.delays.get(key).copied(), started, finished, now)
    }

    /// Records a restart after the run [`Backoff::check`] allowed: a long run resets the
    /// back-off first.
    pub fn restart_after(
        &mut self,
        key: &str,
        started: Option<DateTime<Utc>>,
        finished: DateTime<Utc>,
    ) {
        if ran_long(started, finished) {
            self.delays.remove(key);
        }
        self.restarted(key);
    }

    /// Records a restart: the next one waits twice as long (up to [`MAX`]).
    pub fn restarted(&mut self, key: &str) {
        let next = match self.delays.get(key) {
            None => INITIAL,
            Some(d) => (*d * 2).min(MAX),
        };
        self.delays.insert(key.to_string(), next);
    }

    /// Same step for image pulls (`ImagePullBackOff`), keyed separately by the caller.
    pub fn current(&self, key: &str) -> Option<Duration> {
        self.delays.get(key).copied()
    }

    pub fn reset(&mut self, key: &str) {
        self.delays.remove(key);
    }

    /// Rebuilds the state of a container that has restarted `restarts` times (after an agent
    /// restart lost it): as if [`Backoff::restarted`] had run once per restart.
    pub fn seed(&mut self, key: &str, restarts: u32) {
        if restarts == 0 {
            return;
        }
        // 10 s · 2^(n-1), capped; past 6 doublings it is MAX anyway.
        let doublings = (restarts - 1).min(6);
        let delay = (INITIAL * 2u32.pow(doublings)).min(MAX);
        self.delays.insert(key.to_string(), delay);
    }
}

/// What [`Backoff::check`] decides, without changing anything: `delay` is the container's
/// current back-off (none before its first restart).
pub fn decide(
    delay: Option<Duration>,
    started: Option<DateTime<Utc>>,
    finished: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Decision {
    let Some(delay) = delay.filter(|_| !ran_long(started, finished)) else {
        return Decision::RestartNow;
    };
    let until = finished + chrono::Duration::from_std(delay).unwrap_or_default();
    if now >= until {
        Decision::RestartNow
    } else {
        Decision::Wait { delay, until }
    }
}

/// A run this long resets the back-off.
fn ran_long(started: Option<DateTime<Utc>>, finished: DateTime<Utc>) -> bool {
    started
        .and_then(|s| (finished - s).to_std().ok())
        .is_some_and(|ran| ran >= RESET_AFTER)
}

/// `10s`, `1m20s`, `5m0s` like Go's Duration printing in kubelet messages.
pub fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn first_restart_immediate_then_doubling() {
        let mut b = Backoff::default();
        assert_eq!(b.check("c", Some(t(0)), t(1), t(1)), Decision::RestartNow);
        b.restarted("c");
        assert_eq!(
            b.check("c", Some(t(1)), t(2), t(3)),
            Decision::Wait {
                delay: INITIAL,
                until: t(12)
            }
        );
        assert_eq!(b.check("c", Some(t(1)), t(2), t(12)), Decision::RestartNow);
        b.restarted("c");
        assert_eq!(b.current("c"), Some(Duration::from_secs(20)));
        for _ in 0..10 {
            b.restarted("c");
        }
        assert_eq!(b.current("c"), Some(MAX));
    }

    #[test]
    fn long_run_resets() {
        let mut b = Backoff::default();
        b.restarted("c");
        b.restarted("c");
        assert_eq!(
            b.check("c", Some(t(0)), t(700), t(700)),
            Decision::RestartNow
        );
        assert_eq!(b.current("c"), None);
    }

    #[test]
    fn seeded_state_matches_live_restarts() {
        for n in 0..12u32 {
            let mut live = Backoff::default();
            for _ in 0..n {
                live.restarted("c");
            }
            let mut seeded = Backoff::default();
            seeded.seed("c", n);
            assert_eq!(seeded.current("c"), live.current("c"), "{n} restarts");
        }
        // A container that crashed 3 s ago after its second restart still waits.
        let mut b = Backoff::default();
        b.seed("c", 2);
        assert_eq!(
            b.check("c", Some(t(0)), t(1), t(4)),
            Decision::Wait {
                delay: Duration::from_secs(20),
                until: t(21)
            }
        );
    }

    #[test]
    fn go_style_durations() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
    }
}
