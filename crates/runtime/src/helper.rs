//! Helper modes run as `<binary> __<mode> args...` (the peapod binary dispatches here
//! before any thread starts).

use std::path::Path;

use anyhow::bail;

/// Runs helper mode `mode` (with or without the leading `__`).
pub fn run(mode: &str, args: &[String]) -> anyhow::Result<()> {
    match mode.trim_start_matches("__") {
        "zygote" => match args {
            [dir] => crate::supervisor::zygote::main(Path::new(dir)),
            _ => bail!("usage: __zygote <data-dir>"),
        },
        other => bail!("unknown helper mode {other:?}"),
    }
}
