//! Attach to a running container's stdio. The runtime makes the pipes and hands their
//! supervisor-side ends over with SCM_RIGHTS; the supervisor copies the container's
//! output into them and the caller's input into the container's stdin.

use std::fs::File;
use std::io::BufReader;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::Context;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::unistd::pipe2;

use super::{Runtime, CALL_TIMEOUT};
use crate::protocol::{self, Request};

/// Output pipes get room for bursts: a caller that lags by more than this loses output.
const PIPE_SIZE: i32 = 1 << 20;

#[derive(Debug, Clone, Copy, Default)]
pub struct AttachOptions {
    /// Send the caller's input to the container's stdin (needs `stdin: true` on the container).
    pub stdin: bool,
    /// The container has a tty: all output comes on `stdout`.
    pub tty: bool,
}

/// An attachment. Drop it to detach; `stdin` dropped ends the caller's input (which closes
/// the container's stdin when it was started with `stdinOnce`).
pub struct AttachSession {
    pub stdin: Option<File>,
    pub stdout: File,
    pub stderr: Option<File>,
    conn: BufReader<UnixStream>,
}

impl AttachSession {
    /// Blocks until the container exits and returns its exit code.
    pub fn wait(mut self) -> anyhow::Result<i32> {
        self.conn.get_ref().set_read_timeout(None)?;
        let resp = protocol::read_response(&mut self.conn)?.into_result()?;
        resp.exit_code.context("supervisor sent no exit code")
    }
}

/// Dropping a session detaches: the control connection is closed before the caller's stdin
/// (fields drop in order), so the supervisor sees a hang-up, not the end of the caller's
/// input, which with stdinOnce would close the container's stdin.
impl Drop for AttachSession {
    fn drop(&mut self) {
        let _ = self.conn.get_ref().shutdown(std::net::Shutdown::Both);
    }
}

fn output_pipe() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
    // Best effort: the system's pipe-max-size may be lower.
    let _ = fcntl(w.as_raw_fd(), FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    Ok((r, w))
}

impl Runtime {
    pub fn attach(&self, id: &str, opts: AttachOptions) -> anyhow::Result<AttachSession> {
        let sb = self.locate(id)?;
        let (in_child, stdin) = if opts.stdin {
            let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
            (r, Some(File::from(w)))
        } else {
            (OwnedFd::from(File::open("/dev/null")?), None)
        };
        let (out_r, out_w) = output_pipe()?;
        let (err_r, err_w) = output_pipe()?;
        let child = [in_child, out_w, err_w];
        let req = Request::Attach {
            id: id.to_string(),
            stdin: opts.stdin,
        };
        let raw: Vec<i32> = child.iter().map(|f| f.as_raw_fd()).collect();
        let mut conn = protocol::send(&sb.socket(), &req, &raw, CALL_TIMEOUT)?;
        // Our copies of the supervisor's ends must close, or the caller never sees EOF.
        drop(child);
        protocol::read_response(&mut conn)?.into_result()?;
        Ok(AttachSession {
            stdin,
            stdout: File::from(out_r),
            stderr: (!opts.tty).then(|| File::from(err_r)),
            conn,
        })
    }

    /// Sets the window size of a container started with a tty.
    pub fn resize_container(&self, id: &str, cols: u16, rows: u16) -> anyhow::Result<()> {
        let sb = self.locate(id)?;
        let req = Request::Resize {
            id: id.to_string(),
            cols,
            rows,
        };
        protocol::call(&sb.socket(), &req, CALL_TIMEOUT).map(|_| ())
    }
}
