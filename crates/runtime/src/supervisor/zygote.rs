//! The supervisor zygote: one small single-threaded process per runtime
//! (`<helper> __zygote <data-dir>`) that forks each new pod's supervisor. A fork of it costs
//! a fraction of starting the binary again (exec, ~100k relocations, runtime set-up), and
//! the supervisors share its relocated pages instead of each dirtying a copy of its own.
//!
//! Its stdin is a unix socket to the runtime. Each request is one JSON line naming a sandbox
//! directory, with one fd attached: where the new supervisor reports `ready <pause-pid>` or
//! `error: ...`. End of file on stdin means the runtime is gone; the zygote then exits
//! (supervisors it forked live on: none of them is its child). Its forks keep its command
//! line, so supervisors are told apart by their name, `pod-supervisor`, and by their
//! stderr, the `supervisor.log` in their sandbox directory.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult};
use serde::{Deserialize, Serialize};

use crate::protocol;

/// A request to the zygote.
#[derive(Debug, Serialize, Deserialize)]
pub struct Launch {
    pub sandbox_dir: PathBuf,
}

/// Entry point of `__zygote <data-dir>` (the data dir only names the runtime in `ps`).
pub fn main(_data_dir: &Path) -> anyhow::Result<()> {
    let _ = nix::sys::prctl::set_name(c"pod-zygote");
    warm_cgroup_caches();
    // SAFETY: fd 0 is the runtime's socket, handed over as stdin; nothing else owns it.
    let control = unsafe { UnixStream::from_raw_fd(0) };
    loop {
        let (launch, fds): (Launch, Vec<OwnedFd>) = match protocol::receive(&control) {
            Ok(r) => r,
            // The runtime closed its end (or sent garbage): nothing more will come.
            Err(_) => return Ok(()),
        };
        let Some(report) = fds.into_iter().next() else {
            continue;
        };
        if let Err(e) = launch_supervisor(&launch.sandbox_dir, report) {
            eprintln!(
                "zygote: launching a supervisor for {:?}: {e:#}",
                launch.sandbox_dir
            );
        }
    }
}

/// Fills libcgroups' per-process caches of the cgroup v1 mount points and controllers
/// (third_party/libcgroups/PEAPOD.md) once, here: every supervisor, and every container
/// process libcontainer forks from one, inherits them instead of re-reading the mount table
/// for each controller of each container.
fn warm_cgroup_caches() {
    if crate::cgroups::detect() == crate::cgroups::Layout::V1 {
        // The path is never created: making a manager only resolves paths.
        let _ = libcgroups::v1::manager::Manager::new(Path::new("peapod-warm-up"));
    }
}

/// Forks a child that starts a new session and forks the supervisor itself, then exits: the
/// supervisor is nobody's child but init's (or the nearest subreaper's), and the zygote,
/// which reaps the short-lived child at once, keeps no children.
fn launch_supervisor(sandbox_dir: &Path, report: OwnedFd) -> anyhow::Result<()> {
    // SAFETY: the zygote is single-threaded.
    match unsafe { fork() }.context("fork")? {
        ForkResult::Child => {
            let _ = nix::unistd::setsid();
            // SAFETY: still single-threaded.
            if let Ok(ForkResult::Child) = unsafe { fork() } {
                super::serve(sandbox_dir, std::fs::File::from(report));
            }
            // SAFETY: leave without running destructors (the parent owns the state).
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(report);
            waitpid(child, None).context("reaping the launcher")?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cgroup v1 mount points straight from the mount table.
    fn cgroup_mounts_in_mountinfo() -> Vec<PathBuf> {
        let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        table
            .lines()
            .filter_map(|line| {
                let (mount, fs) = line.split_once(" - ")?;
                let fs_type = fs.split(' ').next()?;
                let mount_point = mount.split(' ').nth(4)?;
                (fs_type == "cgroup").then(|| PathBuf::from(mount_point))
            })
            .collect()
    }

    #[test]
    fn warmed_cgroup_caches_agree_with_the_mount_table() {
        warm_cgroup_caches();
        let cached = libcgroups::v1::util::list_subsystem_mount_points().unwrap();
        assert_eq!(cached, cgroup_mounts_in_mountinfo());
        if crate::cgroups::detect() != crate::cgroups::Layout::V1 {
            return;
        }
        let memory = libcgroups::v1::util::get_subsystem_mount_point(
            &libcgroups::v1::ControllerType::Memory,
        )
        .unwrap();
        assert!(cached.contains(&memory), "{memory:?} not in {cached:?}");
        assert!(memory.ends_with("memory"), "{memory:?}");
    }
}
