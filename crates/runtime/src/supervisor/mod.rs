//! The per-pod supervisor: one small single-threaded process per pod, forked for the
//! runtime by its zygote (`zygote.rs`). It owns the pause process, creates
//! and starts containers with libcontainer (forking is safe here: no other threads),
//! holds their stdio, writes CRI logs, records exit status, and outlives the agent.

mod attach;
mod containers;
mod create;
mod pause;
mod server;
mod signals;
mod tty_executor;
pub(crate) mod zygote;

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

use anyhow::Context;

use crate::config::SandboxConfig;
use crate::paths::SandboxPaths;
use crate::status::read_json;

/// A supervisor's process name (its command line is the zygote's).
const SUPERVISOR_NAME: &std::ffi::CStr = c"pod-supervisor";

/// Becomes the supervisor of the sandbox at `sandbox_dir`: stdio to its log, pause, control
/// socket; reports `ready <pause-pid>` (or `error: ...`) on `report`, then serves until
/// the sandbox shuts down, and exits.
pub(crate) fn serve(sandbox_dir: &Path, mut report: std::fs::File) -> ! {
    let _ = nix::sys::prctl::set_name(SUPERVISOR_NAME);
    let paths = SandboxPaths::new(sandbox_dir);
    let started = redirect_stdio(&paths)
        .context("redirecting stdio")
        .and_then(|_| start(&paths));
    match started {
        Ok(mut sup) => {
            let _ = writeln!(report, "ready {}", sup.pause_pid());
            drop(report);
            sup.run();
            std::process::exit(0)
        }
        Err(e) => {
            let _ = writeln!(report, "error: {e:#}");
            std::process::exit(1)
        }
    }
}

fn start(paths: &SandboxPaths) -> anyhow::Result<server::Supervisor> {
    let cfg: SandboxConfig = read_json(&paths.config())?;
    // Orphans of containers in the host PID namespace come back to us to be reaped.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let pause_pid = pause::spawn(&cfg)?;
    let sig_fd = signals::install().context("installing signal handlers")?;
    server::Supervisor::new(paths.clone(), pause_pid, sig_fd)
}

fn redirect_stdio(paths: &SandboxPaths) -> anyhow::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.supervisor_log())?;
    nix::unistd::dup2(null.as_raw_fd(), 0)?;
    nix::unistd::dup2(null.as_raw_fd(), 1)?;
    nix::unistd::dup2(log.as_raw_fd(), 2)?;
    Ok(())
}
