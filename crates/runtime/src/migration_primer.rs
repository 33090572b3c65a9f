//! Keeps cgroup task migrations quick while sandboxes and containers are being made.
//!
//! Moving a task into a cgroup takes the kernel's cgroup threadgroup lock for writing; the
//! first writer after an idle spell waits a whole RCU grace period (3–21 ms, median ~10 ms,
//! on our test VMs) before it may go on, while writers that follow within a grace period of
//! the last one do not wait. Making a pod moves several tasks (the pause process, each
//! container's init), and the first of them would wait its grace period on the pod's
//! critical path. While the runtime makes a sandbox or a container, a thread of ours
//! re-writes this process's pid into the cgroup it already is in every few milliseconds: a
//! migration that moves nothing but takes the lock, so the wait starts as early as
//! possible, off the critical path, and the lock stays writer-ready until a grace period
//! after the last make. Priming goes on for a short while after the last hold ends, so the
//! steps between a sandbox and its first container do not let the lock go idle.
//!
//! A priming write waiting out its grace period holds the kernel's cgroup mutex, which
//! every mkdir and rmdir in cgroupfs takes too: make the cgroups a make needs before
//! holding, or they wait for the grace period instead of the migration.
//! Meanwhile readers of the lock (fork, exit) take their slower path, as with the kernel's
//! `favordynmods` cgroup option, for that window only.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Shorter than a grace period, so the lock never falls back to its idle state in between.
const INTERVAL: Duration = Duration::from_millis(4);

/// How long priming goes on after the last hold ends: longer than setting up a pod's
/// network, short enough that an idle node soon writes nothing.
const LINGER: Duration = Duration::from_millis(25);

/// One per runtime; dropping it ends its thread.
pub struct MigrationPrimer {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// This process' `cgroup.procs` in one of its hierarchies (None: priming is off).
    procs: Option<PathBuf>,
}

#[derive(Default)]
struct State {
    /// Makes under way; the thread writes while it is not zero.
    holds: usize,
    /// The primer was dropped: the thread ends.
    closed: bool,
    /// With no holds left, the thread still writes until then.
    linger_until: Option<Instant>,
}

impl State {
    fn priming(&self, now: Instant) -> bool {
        self.holds > 0 || self.linger_until.is_some_and(|t| now < t)
    }
}

/// Keeps the primer writing until dropped.
pub struct PrimerHold {
    shared: Arc<Shared>,
}

impl MigrationPrimer {
    pub fn new() -> Self {
        Self::with_target(own_cgroup_procs())
    }

    fn with_target(procs: Option<PathBuf>) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            procs,
        });
        if shared.procs.is_some() {
            let s = shared.clone();
            let spawned = std::thread::Builder::new()
                .name("cgroup-primer".into())
                .spawn(move || prime_while_held(&s));
            if let Err(e) = spawned {
                tracing::warn!("cgroup migration primer not started: {e}");
            }
        }
        MigrationPrimer { shared }
    }

    pub fn hold(&self) -> PrimerHold {
        lock(&self.shared.state).holds += 1;
        self.shared.wake.notify_one();
        PrimerHold {
            shared: self.shared.clone(),
        }
    }
}

impl Default for MigrationPrimer {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PrimerHold {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.holds = state.holds.saturating_sub(1);
        if state.holds == 0 {
            state.linger_until = Some(Instant::now() + LINGER);
        }
    }
}

impl Drop for MigrationPrimer {
    fn drop(&mut self) {
        lock(&self.shared.state).closed = true;
        self.shared.wake.notify_one();
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn prime_while_held(s: &Shared) {
    let Some(procs) = &s.procs else { return };
    let pid = std::process::id().to_string();
    loop {
        {
            let mut state = lock(&s.state);
            while !state.priming(Instant::now()) && !state.closed {
                state = s.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            if state.closed {
                return;
            }
        }
        let t = Instant::now();
        let written = std::fs::write(procs, &pid);
        if t.elapsed() > Duration::from_millis(1) {
            tracing::debug!("cgroup migration primer: a write took {:?}", t.elapsed());
        }
        if let Err(e) = written {
            // Nothing depends on it: without it, migrations are only slower.
            tracing::debug!("cgroup migration primer stops: {}: {e}", procs.display());
            return;
        }
        std::thread::sleep(INTERVAL);
    }
}

/// This process' `cgroup.procs` in the first hierarchy of `/proc/self/cgroup` that is
/// mounted under /sys/fs/cgroup (a v1 controller's, or the v2 one).
fn own_cgroup_procs() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    own_procs_in(&text, |p| p.exists())
}

fn own_procs_in(proc_self_cgroup: &str, exists: impl Fn(&PathBuf) -> bool) -> Option<PathBuf> {
    proc_self_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if controllers.starts_with("name=") {
            return None;
        }
        let root = PathBuf::from("/sys/fs/cgroup");
        let root = if controllers.is_empty() {
            root
        } else {
            root.join(controllers)
        };
        let procs = root.join(path.trim_start_matches('/')).join("cgroup.procs");
        exists(&procs).then_some(procs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "9:name=systemd:/\n8:pids:/user.slice\n4:memory:/x\n0::/\n";

    #[test]
    fn picks_the_first_mounted_controller_hierarchy() {
        let got = own_procs_in(HYBRID, |_| true);
        assert_eq!(
            got,
            Some(PathBuf::from("/sys/fs/cgroup/pids/user.slice/cgroup.procs"))
        );
        let got = own_procs_in(HYBRID, |p| p.starts_with("/sys/fs/cgroup/memory"));
        assert_eq!(
            got,
            Some(PathBuf::from("/sys/fs/cgroup/memory/x/cgroup.procs"))
        );
    }

    #[test]
    fn unified_hierarchy_and_nothing_mounted() {
        let got = own_procs_in("0::/system.slice/peapod.service\n", |_| true);
        assert_eq!(
            got,
            Some(PathBuf::from(
                "/sys/fs/cgroup/system.slice/peapod.service/cgroup.procs"
            ))
        );
        assert_eq!(own_procs_in(HYBRID, |_| false), None);
    }

    #[test]
    fn priming_lingers_after_the_last_hold() {
        let now = Instant::now();
        let mut st = State::default();
        assert!(!st.priming(now));
        st.holds = 1;
        assert!(st.priming(now));
        st.holds = 0;
        st.linger_until = Some(now + LINGER);
        assert!(st.priming(now));
        assert!(!st.priming(now + LINGER));
    }

    /// On this machine: holding makes the thread write (the process stays where it was).
    #[test]
    fn a_hold_primes_and_leaves_the_process_in_its_cgroup() {
        let Some(procs) = own_cgroup_procs() else {
            return; // no writable cgroup hierarchy here
        };
        let before = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let primer = MigrationPrimer::with_target(Some(procs.clone()));
        {
            let _hold = primer.hold();
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(lock(&primer.shared.state).holds, 0);
        assert_eq!(
            std::fs::read_to_string("/proc/self/cgroup").unwrap(),
            before
        );
    }
}
