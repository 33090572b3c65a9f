//! The pod's pause process: a clone of the supervisor (no exec, so it costs only the
//! pages it touches) that creates and holds the pod namespaces. With a shared PID
//! namespace it is PID 1 there and reaps orphans.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::{bail, Context};
use nix::sched::CloneFlags;
use nix::unistd::pipe2;

use crate::config::SandboxConfig;

/// The namespaces a pod's pause process creates.
fn namespace_flags(cfg: &SandboxConfig) -> CloneFlags {
    let mut flags = CloneFlags::empty();
    if !cfg.host_network {
        flags |= CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWUTS;
    }
    if !cfg.host_ipc {
        flags |= CloneFlags::CLONE_NEWIPC;
    }
    if cfg.share_pid && !cfg.host_pid {
        flags |= CloneFlags::CLONE_NEWPID;
    }
    flags
}

/// Starts the pause process and returns its (host) pid once its namespaces are ready.
pub fn spawn(cfg: &SandboxConfig) -> anyhow::Result<i32> {
    let flags = namespace_flags(cfg);
    let (rd, wr) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
    let hostname = cfg.hostname.clone();
    let wr_raw = wr.as_raw_fd();
    let mut stack = vec![0u8; 256 * 1024];
    let cb = Box::new(move || -> isize {
        // SAFETY: the child owns its copy of the write end.
        let mut status = unsafe { std::fs::File::from_raw_fd(wr_raw) };
        match setup(flags, &hostname) {
            Ok(()) => {
                let _ = status.write_all(b"ok");
                drop(status);
                close_other_fds();
                hold_and_reap()
            }
            Err(e) => {
                let _ = status.write_all(format!("{e:#}").as_bytes());
                1
            }
        }
    });
    // SAFETY: the supervisor is single-threaded; the child only runs `cb` on its own stack.
    let pid = unsafe { nix::sched::clone(cb, &mut stack, flags, Some(libc::SIGCHLD)) }
        .context("cloning pause")?;
    drop(wr);
    let mut msg = String::new();
    std::fs::File::from(rd).read_to_string(&mut msg)?;
    if msg != "ok" {
        let _ = nix::sys::wait::waitpid(pid, None);
        bail!("pause setup failed: {msg}");
    }
    Ok(pid.as_raw())
}

fn setup(flags: CloneFlags, hostname: &str) -> anyhow::Result<()> {
    let _ = nix::sys::prctl::set_name(c"pause");
    if flags.contains(CloneFlags::CLONE_NEWUTS) {
        nix::unistd::sethostname(hostname).with_context(|| format!("sethostname {hostname:?}"))?;
    }
    if flags.contains(CloneFlags::CLONE_NEWNET) {
        loopback_up().context("bringing lo up")?;
    }
    Ok(())
}

fn loopback_up() -> std::io::Result<()> {
    // SAFETY: plain socket/ioctl calls on a zeroed ifreq naming "lo".
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let sock = OwnedFd::from_raw_fd(fd);
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            ifr.ifr_name[i] = *b as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn close_other_fds() {
    // SAFETY: close_range on fds >= 3; the pause process uses none of them.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
}

/// Waits for signals forever: reaps children on SIGCHLD, exits on SIGTERM/SIGINT.
fn hold_and_reap() -> isize {
    // SAFETY: sigset manipulation and sigwait on our own (single) thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT] {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        loop {
            let mut sig: libc::c_int = 0;
            if libc::sigwait(&set, &mut sig) != 0 {
                continue;
            }
            if sig == libc::SIGCHLD {
                while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
            } else {
                libc::_exit(0);
            }
        }
    }
}
