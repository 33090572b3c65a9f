//! Exec into a running container. The runtime makes the pipes (or a pty) and hands the
//! child ends to the supervisor with SCM_RIGHTS; the supervisor forks the process with
//! libcontainer (tenant) and answers with its exit code when it ends.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{bail, Context};
use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use super::{Runtime, CALL_TIMEOUT};
use crate::errors::TimeoutError;
use crate::protocol::{self, Request};

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub cmd: Vec<String>,
    /// Extra `NAME=value` on top of the container's env.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    /// Allocate a pty: `stdout` is then the pty master (read and write), no `stderr`.
    pub tty: bool,
    /// Give the process a stdin the caller writes to (otherwise /dev/null).
    pub stdin: bool,
}

/// A running exec. Drop `stdin` to send EOF.
pub struct ExecSession {
    pub pid: i32,
    pub stdin: Option<File>,
    pub stdout: File,
    pub stderr: Option<File>,
    conn: BufReader<UnixStream>,
}

impl ExecSession {
    /// Sets the terminal size of a tty exec.
    pub fn resize(&self, cols: u16, rows: u16) -> anyhow::Result<()> {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ with a valid winsize on our pty master fd.
        let rc = unsafe { libc::ioctl(self.stdout.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        if rc != 0 {
            bail!("resize: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Blocks until the process exits and returns its exit code (128+signal if killed).
    pub fn wait(mut self) -> anyhow::Result<i32> {
        self.conn.get_ref().set_read_timeout(None)?;
        let resp = protocol::read_response(&mut self.conn)?.into_result()?;
        resp.exit_code.context("supervisor sent no exit code")
    }
}

/// Result of `exec_sync`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecOutput {
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Runtime {
    pub fn exec(&self, id: &str, opts: &ExecOptions) -> anyhow::Result<ExecSession> {
        if opts.cmd.is_empty() {
            bail!("exec needs a command");
        }
        let sb = self.locate(id)?;
        let (child, stdin, stdout, stderr): ([OwnedFd; 3], Option<File>, File, Option<File>) =
            if opts.tty {
                let pid = self.container_status(id)?.pid;
                // Without a devpts of its own, the container gets a host pty.
                let (master, s) = match pid.map(super::container_pty::open_in) {
                    Some(Ok(pair)) => pair,
                    _ => {
                        let pty = nix::pty::openpty(None, None).context("openpty")?;
                        (pty.master, pty.slave)
                    }
                };
                (
                    [s.try_clone()?, s.try_clone()?, s],
                    None,
                    File::from(master),
                    None,
                )
            } else {
                let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC)?;
                let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC)?;
                let (in_child, in_parent) = if opts.stdin {
                    let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
                    (r, Some(File::from(w)))
                } else {
                    (OwnedFd::from(File::open("/dev/null")?), None)
                };
                (
                    [in_child, out_w, err_w],
                    in_parent,
                    File::from(out_r),
                    Some(File::from(err_r)),
                )
            };
        let req = Request::Exec {
            id: id.to_string(),
            args: opts.cmd.clone(),
            env: opts.env.clone(),
            cwd: opts.cwd.clone(),
        };
        let raw: Vec<i32> = child.iter().map(|f| f.as_raw_fd()).collect();
        let mut conn = protocol::send(&sb.socket(), &req, &raw, CALL_TIMEOUT)?;
        // Our copies of the child ends must close, or the caller never sees EOF.
        drop(child);
        let resp = protocol::read_response(&mut conn)?.into_result()?;
        let pid = resp.pid.context("supervisor sent no pid")?;
        Ok(ExecSession {
            pid,
            stdin,
            stdout,
            stderr,
            conn,
        })
    }

    /// Runs a command to completion, feeding `input` to its stdin, and collects output.
    pub fn exec_sync(
        &self,
        id: &str,
        cmd: &[&str],
        input: &[u8],
        timeout: Duration,
    ) -> anyhow::Result<ExecOutput> {
        let opts = ExecOptions {
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            stdin: true,
            ..Default::default()
        };
        let mut s = self.exec(id, &opts)?;
        let mut stdin = s.stdin.take();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            if let Some(w) = stdin.as_mut() {
                let _ = w.write_all(&input);
            }
        });
        let mut err_file = s.stderr.take();
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(f) = err_file.as_mut() {
                let _ = f.read_to_end(&mut buf);
            }
            buf
        });
        let mut stdout = Vec::new();
        let mut out_file = s.stdout.try_clone()?;
        let out_reader = std::thread::spawn(move || {
            let _ = out_file.read_to_end(&mut stdout);
            stdout
        });
        s.conn.get_ref().set_read_timeout(Some(timeout))?;
        let resp = protocol::read_response(&mut s.conn);
        let pid = s.pid;
        let resp = match resp {
            Ok(r) => r.into_result()?,
            Err(e) => {
                // SAFETY: kill(2) on the exec'd process we started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return Err(e.context(TimeoutError(timeout)));
            }
        };
        let _ = writer.join();
        drop(s);
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        Ok(ExecOutput {
            exit_code: resp.exit_code.context("no exit code")?,
            stdout,
            stderr,
        })
    }
}
