//! The runtime's end of the supervisor zygote (see `supervisor/zygote.rs`): started on
//! first use, started again if it died, told to exit (by closing its stdin) when the
//! runtime is dropped.

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use crate::protocol;
use crate::supervisor::zygote::Launch;

/// How long a new supervisor may take to report (pause, namespaces, control socket).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) struct Zygote {
    helper: PathBuf,
    data_dir: PathBuf,
    running: Mutex<Option<Running>>,
}

struct Running {
    child: Child,
    /// One message per request (SOCK_SEQPACKET), so that back-to-back requests never merge.
    control: UnixStream,
}

impl Drop for Running {
    fn drop(&mut self) {
        // End of file on its stdin makes the zygote exit.
        let _ = self.control.shutdown(std::net::Shutdown::Both);
        let _ = self.child.wait();
    }
}

impl Zygote {
    pub fn new(helper: &Path, data_dir: &Path) -> Self {
        Zygote {
            helper: helper.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            running: Mutex::new(None),
        }
    }

    /// Forks a supervisor for `sandbox_dir` and returns the pid of its pause process.
    pub fn launch(&self, sandbox_dir: &Path) -> anyhow::Result<i32> {
        let (mine, theirs) = UnixStream::pair().context("socketpair")?;
        mine.set_read_timeout(Some(READY_TIMEOUT))?;
        self.send(sandbox_dir, theirs.as_raw_fd())?;
        drop(theirs);
        let mut line = String::new();
        BufReader::new(&mine)
            .read_line(&mut line)
            .context("waiting for the supervisor")?;
        let line = line.trim();
        match line.strip_prefix("ready ").map(|p| p.parse::<i32>()) {
            Some(Ok(pid)) if pid > 0 => Ok(pid),
            _ if line.is_empty() => bail!("supervisor failed without a word"),
            _ => bail!("supervisor failed: {line}"),
        }
    }

    /// Hands the request to the zygote, starting it (again) when there is none (or it died).
    fn send(&self, sandbox_dir: &Path, report: i32) -> anyhow::Result<()> {
        let req = Launch {
            sandbox_dir: sandbox_dir.to_path_buf(),
        };
        // A panic under the lock leaves at worst a dead zygote, which the next call replaces.
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for attempt in 0..2 {
            if running.is_none() {
                *running = Some(self.start()?);
            }
            let Some(r) = running.as_ref() else {
                continue;
            };
            match protocol::send_on(&r.control, &req, &[report]) {
                Ok(()) => return Ok(()),
                Err(e) if attempt == 0 => {
                    tracing::warn!("supervisor zygote is gone ({e:#}); starting a new one");
                    *running = None;
                }
                Err(e) => return Err(e).context("asking the zygote for a supervisor"),
            }
        }
        bail!("no supervisor zygote")
    }

    fn start(&self) -> anyhow::Result<Running> {
        let (mine, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context("socketpair")?;
        let child = Command::new(&self.helper)
            .arg("__zygote")
            .arg(&self.data_dir)
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting the zygote {}", self.helper.display()))?;
        let control = UnixStream::from(mine);
        control.set_write_timeout(Some(READY_TIMEOUT))?;
        Ok(Running { child, control })
    }
}
