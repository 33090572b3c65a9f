//! A pty from the container's own devpts instance, as runc's console socket gives: opened
//! through `/proc/<pid>/root`, so `tty` and `ttyname` inside the container name a device
//! that exists there (a host pty would be `/dev/pts/N` of another instance).

use std::fs::OpenOptions;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use anyhow::{bail, Context};

/// (master, slave) of a new pty in the devpts mounted at `/dev/pts` of process `pid`'s root.
pub fn open_in(pid: i32) -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let ptmx = format!("/proc/{pid}/root/dev/pts/ptmx");
    let master: OwnedFd = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&ptmx)
        .with_context(|| format!("opening {ptmx}"))?
        .into();
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK with a pointer to an int on a ptmx fd we own.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } != 0 {
        bail!("unlocking pty: {}", std::io::Error::last_os_error());
    }
    // TIOCGPTPEER opens the slave without a path lookup in a foreign mount namespace.
    // SAFETY: the ioctl returns a new fd that we then own.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if slave < 0 {
        bail!("opening pty peer: {}", std::io::Error::last_os_error());
    }
    // SAFETY: `slave` is a fresh fd returned by the kernel.
    Ok((master, unsafe { OwnedFd::from_raw_fd(slave) }))
}
