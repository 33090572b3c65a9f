//! Internal helper modes (`peapod __<mode> ...`) used by the container runtime: the
//! per-pod supervisor (which also owns the pod's pause process). Called before clap and
//! before any thread starts, because the supervisor forks.

pub fn run(mode: &str, args: &[String]) -> anyhow::Result<()> {
    peapod_runtime::helper::run(mode, args)
}
