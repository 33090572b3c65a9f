//! Internal helper modes (`peapod __<mode> ...`) used by the container runtime.

pub fn run(mode: &str, _args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("unknown internal mode {mode}")
}
