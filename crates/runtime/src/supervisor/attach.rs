//! Attach: a running container's output also goes to attached callers, and their stdin
//! feeds the container's, as kubelet's attach does. The supervisor already holds the
//! container's stdio, so an attachment is only more sinks and one more stdin source.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::Context;
use nix::errno::Errno;

use super::server::Supervisor;
use crate::logs::Stream;
use crate::protocol::{self, Response};

/// Most stdin bytes held for a container that is not reading; callers wait beyond that.
const MAX_PENDING: usize = 64 * 1024;

impl Supervisor {
    /// Answers `ok`, then keeps the connection to send the exit code on.
    pub(super) fn attach(
        &mut self,
        id: &str,
        stdin: bool,
        fds: Vec<OwnedFd>,
        stream: &UnixStream,
    ) -> anyhow::Result<()> {
        let c = self
            .containers
            .get_mut(id)
            .with_context(|| format!("no container {id} in this sandbox"))?;
        c.check_running()?;
        let a = Attachment::new(fds, stdin, stream.try_clone()?)?;
        protocol::reply(stream, &Response::ok())?;
        // Shared with `a.conn`: its hang-up is then seen by poll without blocking reads.
        stream.set_nonblocking(true)?;
        c.add_attachment(a);
        Ok(())
    }
}

/// One caller attached to a container.
pub struct Attachment {
    stdin: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    /// The control connection: answered with the exit code; its hang-up means detach.
    conn: UnixStream,
}

impl Attachment {
    /// `fds` are the caller's stdin (read end), stdout and stderr (write ends).
    pub fn new(fds: Vec<OwnedFd>, with_stdin: bool, conn: UnixStream) -> anyhow::Result<Self> {
        let [sin, sout, serr]: [OwnedFd; 3] = fds
            .try_into()
            .map_err(|_| anyhow::anyhow!("attach needs 3 fds"))?;
        for fd in [&sin, &sout, &serr] {
            super::containers::nonblocking(fd).context("attach fds")?;
        }
        Ok(Attachment {
            stdin: with_stdin.then_some(sin),
            stdout: Some(sout),
            stderr: Some(serr),
            conn,
        })
    }

    /// Copies container output to this caller. A caller that lags by more than its pipe
    /// buffer loses output rather than stalling the container (the log keeps everything).
    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        let slot = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let Some(fd) = slot else { return };
        let mut rest = data;
        while !rest.is_empty() {
            match nix::unistd::write(&*fd, rest) {
                Ok(n) => rest = &rest[n..],
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    *slot = None;
                    return;
                }
            }
        }
    }

    /// Tells the caller the container exited; dropping the attachment then closes its pipes.
    pub fn finish(self, code: i32) {
        let _ = self.conn.set_nonblocking(false);
        let _ = protocol::reply(
            &self.conn,
            &Response {
                exit_code: Some(code),
                ..Response::ok()
            },
        );
    }

    pub fn conn_fd(&self) -> i32 {
        self.conn.as_raw_fd()
    }

    pub fn stdin_fd(&self) -> Option<i32> {
        self.stdin.as_ref().map(|f| f.as_raw_fd())
    }

    /// Reads what the caller typed into `pending`. Returns false at end of input.
    pub fn read_stdin(&mut self, pending: &mut Vec<u8>) -> bool {
        let Some(fd) = &self.stdin else { return true };
        let mut buf = [0u8; 16 * 1024];
        let room = MAX_PENDING.saturating_sub(pending.len()).min(buf.len());
        if room == 0 {
            return true;
        }
        loop {
            match nix::unistd::read(fd.as_raw_fd(), &mut buf[..room]) {
                Ok(0) => {
                    self.stdin = None;
                    return false;
                }
                Ok(n) => {
                    pending.extend_from_slice(&buf[..n]);
                    return true;
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return true,
                Err(_) => {
                    self.stdin = None;
                    return false;
                }
            }
        }
    }
}

/// The container's stdin as the supervisor holds it: the pipe's write end or the pty master.
pub struct StdinSink {
    pub fd: Option<OwnedFd>,
    pub pending: Vec<u8>,
    /// stdinOnce: close the container's stdin once the first attached stdin ends.
    pub close_when_flushed: bool,
}

impl StdinSink {
    pub fn new(fd: Option<OwnedFd>) -> Self {
        StdinSink {
            fd,
            pending: Vec::new(),
            close_when_flushed: false,
        }
    }

    /// Writes what the container will take now.
    pub fn flush(&mut self) {
        if let Some(fd) = &self.fd {
            while !self.pending.is_empty() {
                match nix::unistd::write(fd, &self.pending) {
                    Ok(n) => {
                        self.pending.drain(..n);
                    }
                    Err(Errno::EINTR) => continue,
                    Err(Errno::EAGAIN) => break,
                    // The container closed its stdin: nobody will read the rest.
                    Err(_) => {
                        self.pending.clear();
                        break;
                    }
                }
            }
        } else {
            self.pending.clear();
        }
        if self.pending.is_empty() && self.close_when_flushed {
            self.fd = None;
            self.close_when_flushed = false;
        }
    }
}
