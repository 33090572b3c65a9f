//! SIGCHLD delivery through a self-pipe. A handler (not signalfd + a blocked mask) is
//! used because children inherit the signal mask but not handlers across exec, and
//! libcontainer does not reset the mask of container processes.

use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use nix::fcntl::OFlag;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(_: libc::c_int) {
    let fd = WAKE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; errors (full pipe) are fine to ignore.
        unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) };
    }
}

extern "C" fn ignore(_: libc::c_int) {}

/// Installs the handlers; returns the read end to poll.
pub fn install() -> nix::Result<OwnedFd> {
    let (rd, wr) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
    let raw: RawFd = std::os::fd::IntoRawFd::into_raw_fd(wr);
    WAKE_FD.store(raw, Ordering::Relaxed);
    let chld = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    // SIGPIPE gets a no-op handler rather than SIG_IGN so containers still get the default.
    let pipe = SigAction::new(
        SigHandler::Handler(ignore),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handlers only call async-signal-safe functions.
    unsafe {
        sigaction(Signal::SIGCHLD, &chld)?;
        sigaction(Signal::SIGPIPE, &pipe)?;
    }
    Ok(rd)
}

/// Empties the wake pipe.
pub fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 64];
    while nix::unistd::read(std::os::fd::AsRawFd::as_raw_fd(fd), &mut buf)
        .map(|n| n > 0)
        .unwrap_or(false)
    {}
}
