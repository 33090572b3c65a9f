//! Entering network namespaces without spawning processes.
//!
//! `setns` only changes the calling thread, so work that must happen inside a pod's
//! namespace runs on a short-lived dedicated thread; sockets created there stay bound
//! to that namespace after the thread exits.

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use nix::sched::{setns, CloneFlags};

use crate::error::{NetworkError, Result};

/// Opens a network namespace file (`/proc/<pid>/ns/net` or a bind mount).
pub fn open_netns(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| NetworkError::io("opening network namespace", path, e))
}

/// Runs `f` on a new thread that has joined the network namespace at `path`.
pub fn run_in_netns<T, F>(path: &Path, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let ns = open_netns(path)?;
    let path_owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("peapod-netns".into())
        .spawn(move || -> Result<T> {
            setns(&ns, CloneFlags::CLONE_NEWNET).map_err(|e| {
                NetworkError::io("entering network namespace", &path_owned, e.into())
            })?;
            Ok(f())
        })
        .map_err(|e| NetworkError::io("spawning namespace thread", path, e))?
        .join()
        .map_err(|_| NetworkError::invalid("namespace thread panicked"))?
}

/// A NETLINK_ROUTE socket living in the namespace at `path`.
pub(crate) fn route_socket_in(path: &Path) -> Result<OwnedFd> {
    run_in_netns(path, || {
        // SAFETY: plain socket(2) call; the result is checked before wrapping.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            // SAFETY: fd is a fresh descriptor we own.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        }
    })?
    .map_err(|e| NetworkError::io("creating netlink socket in namespace", path, e))
}
