//! The last step before a container's (or an exec's) process replaces itself: when its
//! stdin is a terminal, make that terminal the session's controlling terminal, as runc does
//! for terminal processes. libcontainer has already made the process a session leader
//! (`setsid`), but it only sets a controlling terminal when it allocates the pty itself
//! through a console socket; ours come from the supervisor. Without it an interactive shell
//! says "can't access tty; job control turned off" and Ctrl-C/Ctrl-Z reach nobody.

use libcontainer::workload::default::DefaultExecutor;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use oci_spec::runtime::Spec;

#[derive(Clone)]
pub(super) struct TtyExecutor;

impl Executor for TtyExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        // SAFETY: isatty and ioctl(TIOCSCTTY) on fd 0 of this (single-threaded, about to
        // exec) process; failure leaves the process as it was, which is still runnable.
        unsafe {
            if libc::isatty(0) == 1 && libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                tracing::debug!("TIOCSCTTY on stdin: {}", std::io::Error::last_os_error());
            }
        }
        DefaultExecutor {}.exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        DefaultExecutor {}.validate(spec)
    }
}
