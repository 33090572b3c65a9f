//! The runtime ↔ supervisor control protocol: one JSON line per message over the
//! sandbox's unix socket; exec passes the caller's stdio fds with SCM_RIGHTS.

use std::io::{BufRead, BufReader, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::errors::ErrorKind;
use anyhow::{bail, Context};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Request {
    Ping,
    Create {
        id: String,
    },
    Start {
        id: String,
    },
    /// Sends `signal`, then SIGKILL after `grace_ms` if the container still runs.
    Stop {
        id: String,
        signal: i32,
        grace_ms: u64,
    },
    Remove {
        id: String,
    },
    /// Carries 3 fds (stdin, stdout, stderr). Answered twice: `pid`, then `exit_code`.
    Exec {
        id: String,
        args: Vec<String>,
        env: Vec<String>,
        cwd: Option<String>,
    },
    ReopenLog {
        id: String,
    },
    /// Carries 3 fds (stdin to read from, stdout and stderr to write to); `stdin` says
    /// whether the first one is the caller's. Answered twice: `ok`, then `exit_code` when
    /// the container exits; closing the connection detaches.
    Attach {
        id: String,
        stdin: bool,
    },
    /// Sets the window size of a tty container.
    Resize {
        id: String,
        cols: u16,
        rows: u16,
    },
    /// Kills pause and exits (containers are removed first by the runtime).
    Shutdown,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The typed error `error` came from, when the caller classifies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

impl Response {
    pub fn ok() -> Self {
        Response {
            ok: true,
            ..Default::default()
        }
    }
    pub fn err(e: impl std::fmt::Display) -> Self {
        Response {
            ok: false,
            error: Some(e.to_string()),
            ..Default::default()
        }
    }
    /// A failure reply that keeps the kind of a typed error.
    pub fn failure(e: &anyhow::Error) -> Self {
        Response {
            kind: ErrorKind::of(e),
            ..Response::err(format!("{e:#}"))
        }
    }
    pub fn into_result(self) -> anyhow::Result<Response> {
        if self.ok {
            return Ok(self);
        }
        let message = self.error.unwrap_or_else(|| "supervisor error".into());
        match self.kind {
            Some(kind) => Err(kind.error(message)),
            None => bail!("{message}"),
        }
    }
}

/// Sends one request (with optional fds) and returns the connection for the answers.
pub fn send(
    sock: &Path,
    req: &Request,
    fds: &[RawFd],
    timeout: Duration,
) -> anyhow::Result<BufReader<UnixStream>> {
    let stream = UnixStream::connect(sock)
        .with_context(|| format!("connecting to supervisor {}", sock.display()))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    send_on(&stream, req, fds)?;
    Ok(BufReader::new(stream))
}

/// Writes one message line (with optional fds) on a connected stream.
pub fn send_on(stream: &UnixStream, msg: &impl Serialize, fds: &[RawFd]) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(msg)?;
    line.push(b'\n');
    let iov = [IoSlice::new(&line)];
    let cmsgs = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsgs };
    // With a send timeout set, a signal interrupts sendmsg even under SA_RESTART
    // (signal(7)): retry.
    let n = loop {
        match sendmsg::<()>(stream.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other.context("sending request")?,
        }
    };
    if n < line.len() {
        let mut w = stream;
        w.write_all(&line[n..])?;
    }
    Ok(())
}

pub fn read_response(conn: &mut BufReader<UnixStream>) -> anyhow::Result<Response> {
    let mut line = String::new();
    let n = conn
        .read_line(&mut line)
        .context("reading supervisor response")?;
    if n == 0 {
        bail!("supervisor closed the connection");
    }
    serde_json::from_str(&line).context("parsing supervisor response")
}

/// One request/response round trip.
pub fn call(sock: &Path, req: &Request, timeout: Duration) -> anyhow::Result<Response> {
    let mut conn = send(sock, req, &[], timeout)?;
    read_response(&mut conn)?.into_result()
}

/// Server side: reads one request line and any fds sent with it.
pub fn receive<T: DeserializeOwned>(stream: &UnixStream) -> anyhow::Result<(T, Vec<OwnedFd>)> {
    let mut data = Vec::new();
    let mut fds = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while !data.contains(&b'\n') {
        let mut cmsg = nix::cmsg_space!([RawFd; 4]);
        let mut iov = [IoSliceMut::new(&mut buf)];
        // A receive timeout makes recvmsg fail with EINTR on any signal, SA_RESTART or not
        // (signal(7)); the supervisor's SIGCHLD arrives whenever a child exits, so retry
        // (giving up here closed the connection and the caller saw EPIPE).
        let msg = loop {
            match recvmsg::<()>(
                stream.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other.context("receiving request")?,
            }
        };
        let n = msg.bytes;
        for c in msg.cmsgs().context("reading control messages")? {
            if let ControlMessageOwned::ScmRights(rfds) = c {
                // SAFETY: the kernel just installed these fds in our table; we own them.
                fds.extend(
                    rfds.into_iter()
                        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
        if n == 0 {
            bail!("connection closed before a full request");
        }
        data.extend_from_slice(&buf[..n]);
        if data.len() > 1024 * 1024 {
            bail!("request too large");
        }
    }
    let end = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let req = serde_json::from_slice(&data[..end]).context("parsing request")?;
    Ok((req, fds))
}

pub fn reply(mut stream: &UnixStream, resp: &Response) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(resp).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}
